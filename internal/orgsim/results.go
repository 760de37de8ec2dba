package orgsim

import (
	"encoding/json"
	"time"
)

// stamp renders as SOAP (…000Z) in XML and as REST (…000+0000) in JSON.
type stamp struct{ time.Time }

func stampOf(t time.Time) *stamp {
	if t.IsZero() {
		return nil
	}
	return &stamp{t}
}

func (s stamp) MarshalText() ([]byte, error) { return []byte(sfTime(s.Time)), nil }
func (s stamp) MarshalJSON() ([]byte, error) { return json.Marshal(restTime(s.Time)) }

// The types below follow the Metadata WSDL's element order.

type xDeployResult struct {
	CanceledBy               string          `xml:"canceledBy,omitempty" json:"canceledBy"`
	CanceledByName           string          `xml:"canceledByName,omitempty" json:"canceledByName"`
	CheckOnly                bool            `xml:"checkOnly" json:"checkOnly"`
	CompletedDate            *stamp          `xml:"completedDate,omitempty" json:"completedDate"`
	CreatedBy                string          `xml:"createdBy" json:"createdBy"`
	CreatedByName            string          `xml:"createdByName" json:"createdByName"`
	CreatedDate              *stamp          `xml:"createdDate" json:"createdDate"`
	Details                  *xDeployDetails `xml:"details,omitempty" json:"details"`
	Done                     bool            `xml:"done" json:"done"`
	ErrorMessage             string          `xml:"errorMessage,omitempty" json:"errorMessage"`
	ErrorStatusCode          string          `xml:"errorStatusCode,omitempty" json:"errorStatusCode"`
	ID                       string          `xml:"id" json:"id"`
	IgnoreWarnings           bool            `xml:"ignoreWarnings" json:"ignoreWarnings"`
	LastModifiedDate         *stamp          `xml:"lastModifiedDate,omitempty" json:"lastModifiedDate"`
	NumberComponentErrors    int             `xml:"numberComponentErrors" json:"numberComponentErrors"`
	NumberComponentsDeployed int             `xml:"numberComponentsDeployed" json:"numberComponentsDeployed"`
	NumberComponentsTotal    int             `xml:"numberComponentsTotal" json:"numberComponentsTotal"`
	NumberTestErrors         int             `xml:"numberTestErrors" json:"numberTestErrors"`
	NumberTestsCompleted     int             `xml:"numberTestsCompleted" json:"numberTestsCompleted"`
	NumberTestsTotal         int             `xml:"numberTestsTotal" json:"numberTestsTotal"`
	RollbackOnError          bool            `xml:"rollbackOnError" json:"rollbackOnError"`
	RunTestsEnabled          bool            `xml:"runTestsEnabled" json:"runTestsEnabled"`
	StartDate                *stamp          `xml:"startDate,omitempty" json:"startDate"`
	StateDetail              string          `xml:"stateDetail,omitempty" json:"stateDetail"`
	Status                   string          `xml:"status" json:"status"`
	Success                  bool            `xml:"success" json:"success"`
	// REST only, always null there.
	Messages       any `xml:"-" json:"messages"`
	RetrieveResult any `xml:"-" json:"retrieveResult"`
	RunTestResult  any `xml:"-" json:"runTestResult"`
}

type xDeployDetails struct {
	AllComponentMessages []xDeployMessage `xml:"-" json:"allComponentMessages,omitempty"`
	ComponentFailures    []xDeployMessage `xml:"componentFailures" json:"componentFailures"`
	ComponentSuccesses   []xDeployMessage `xml:"componentSuccesses" json:"componentSuccesses"`
	RetrieveResult       any              `xml:"-" json:"retrieveResult"`
	RunTestResult        *xRunTestsResult `xml:"runTestResult,omitempty" json:"runTestResult"`
}

type xDeployMessage struct {
	Changed       bool   `xml:"changed" json:"changed"`
	ColumnNumber  *int   `xml:"columnNumber,omitempty" json:"columnNumber"`
	ComponentType string `xml:"componentType" json:"componentType"`
	Created       bool   `xml:"created" json:"created"`
	CreatedDate   *stamp `xml:"createdDate" json:"createdDate"`
	Deleted       bool   `xml:"deleted" json:"deleted"`
	FileName      string `xml:"fileName" json:"fileName"`
	FullName      string `xml:"fullName" json:"fullName"`
	ID            string `xml:"id,omitempty" json:"id"`
	LineNumber    *int   `xml:"lineNumber,omitempty" json:"lineNumber"`
	Problem       string `xml:"problem,omitempty" json:"problem"`
	ProblemType   string `xml:"problemType,omitempty" json:"problemType"`
	Success       bool   `xml:"success" json:"success"`
	// REST only.
	Warning                   bool `xml:"-" json:"warning"`
	RequiresProductionTestRun bool `xml:"-" json:"requiresProductionTestRun"`
	KnownPackagingProblem     bool `xml:"-" json:"knownPackagingProblem"`
	ForPackageManifestFile    bool `xml:"-" json:"forPackageManifestFile"`
	rest                      bool
}

// MarshalJSON drops the REST-only flags from JSON that is not REST's
// deploy resource (runTestsSynchronous has no messages anyway).
func (m xDeployMessage) MarshalJSON() ([]byte, error) {
	type plain xDeployMessage
	if m.rest {
		return json.Marshal(plain(m))
	}
	return json.Marshal(struct {
		plain
		Warning                   bool `json:"warning,omitempty"`
		RequiresProductionTestRun bool `json:"requiresProductionTestRun,omitempty"`
		KnownPackagingProblem     bool `json:"knownPackagingProblem,omitempty"`
		ForPackageManifestFile    bool `json:"forPackageManifestFile,omitempty"`
	}{plain: plain(m)})
}

type xRunTestsResult struct {
	ApexLogID            string                 `xml:"apexLogId,omitempty" json:"apexLogId"`
	CodeCoverage         []xCodeCoverage        `xml:"codeCoverage" json:"codeCoverage"`
	CodeCoverageWarnings []xCodeCoverageWarning `xml:"codeCoverageWarnings" json:"codeCoverageWarnings"`
	Failures             []xTestFailure         `xml:"failures" json:"failures"`
	FlowCoverage         []any                  `xml:"-" json:"flowCoverage"`
	FlowCoverageWarnings []any                  `xml:"-" json:"flowCoverageWarnings"`
	NumFailures          int                    `xml:"numFailures" json:"numFailures"`
	NumTestsRun          int                    `xml:"numTestsRun" json:"numTestsRun"`
	Successes            []xTestSuccess         `xml:"successes" json:"successes"`
	TotalTime            float64                `xml:"totalTime" json:"totalTime"`
}

type xCodeCoverage struct {
	DMLInfo                []any           `xml:"-" json:"dmlInfo"`
	ID                     string          `xml:"id" json:"id"`
	LocationsNotCovered    []xCodeLocation `xml:"locationsNotCovered" json:"locationsNotCovered"`
	MethodInfo             []any           `xml:"-" json:"methodInfo"`
	Name                   string          `xml:"name" json:"name"`
	Namespace              string          `xml:"namespace" json:"namespace"`
	NumLocations           int             `xml:"numLocations" json:"numLocations"`
	NumLocationsNotCovered int             `xml:"numLocationsNotCovered" json:"numLocationsNotCovered"`
	SOQLInfo               []any           `xml:"-" json:"soqlInfo"`
	SOSLInfo               []any           `xml:"-" json:"soslInfo"`
	Type                   string          `xml:"type" json:"type"`
}

type xCodeLocation struct {
	Column        int     `xml:"column" json:"column"`
	Line          int     `xml:"line" json:"line"`
	NumExecutions int     `xml:"numExecutions" json:"numExecutions"`
	Time          float64 `xml:"time" json:"time"`
}

type xCodeCoverageWarning struct {
	ID        string `xml:"id" json:"id"`
	Message   string `xml:"message" json:"message"`
	Name      string `xml:"name,omitempty" json:"name"`
	Namespace string `xml:"namespace" json:"namespace"`
}

type xTestFailure struct {
	ID          string  `xml:"id" json:"id"`
	Message     string  `xml:"message" json:"message"`
	MethodName  string  `xml:"methodName" json:"methodName"`
	Name        string  `xml:"name" json:"name"`
	Namespace   string  `xml:"namespace" json:"namespace"`
	PackageName string  `xml:"packageName" json:"packageName"`
	StackTrace  string  `xml:"stackTrace" json:"stackTrace"`
	Time        float64 `xml:"time" json:"time"`
	Type        string  `xml:"type" json:"type"`
}

type xTestSuccess struct {
	ID         string  `xml:"id" json:"id"`
	MethodName string  `xml:"methodName" json:"methodName"`
	Name       string  `xml:"name" json:"name"`
	Namespace  string  `xml:"namespace" json:"namespace"`
	SeeAllData bool    `xml:"seeAllData,omitempty" json:"seeAllData"`
	Time       float64 `xml:"time" json:"time"`
}

type xRetrieveResult struct {
	Done            bool              `xml:"done"`
	ErrorMessage    string            `xml:"errorMessage,omitempty"`
	ErrorStatusCode string            `xml:"errorStatusCode,omitempty"`
	FileProperties  []xFileProperties `xml:"fileProperties"`
	ID              string            `xml:"id"`
	Messages        []xRetrieveMsg    `xml:"messages"`
	Status          string            `xml:"status"`
	Success         bool              `xml:"success"`
	ZipFile         string            `xml:"zipFile,omitempty"`
}

type xRetrieveMsg struct {
	FileName string `xml:"fileName"`
	Problem  string `xml:"problem"`
}

type xFileProperties struct {
	CreatedByID        string `xml:"createdById"`
	CreatedByName      string `xml:"createdByName"`
	CreatedDate        *stamp `xml:"createdDate"`
	FileName           string `xml:"fileName"`
	FullName           string `xml:"fullName"`
	ID                 string `xml:"id"`
	LastModifiedByID   string `xml:"lastModifiedById"`
	LastModifiedByName string `xml:"lastModifiedByName"`
	LastModifiedDate   *stamp `xml:"lastModifiedDate"`
	ManageableState    string `xml:"manageableState,omitempty"`
	NamespacePrefix    string `xml:"namespacePrefix"`
	Type               string `xml:"type"`
}

type xAsyncResult struct {
	Done  bool   `xml:"done"`
	ID    string `xml:"id"`
	State string `xml:"state"`
}

type xDescribeMetadata struct {
	MetadataObjects       []xMetadataObject `xml:"metadataObjects"`
	OrganizationNamespace string            `xml:"organizationNamespace"`
	PartialSaveAllowed    bool              `xml:"partialSaveAllowed"`
	TestRequired          bool              `xml:"testRequired"`
}

type xMetadataObject struct {
	ChildXMLNames []string `xml:"childXmlNames"`
	DirectoryName string   `xml:"directoryName"`
	InFolder      bool     `xml:"inFolder"`
	MetaFile      bool     `xml:"metaFile"`
	Suffix        string   `xml:"suffix,omitempty"`
	TypeName      string   `xml:"xmlName"`
}

type xCancelDeployResult struct {
	Done bool   `xml:"done"`
	ID   string `xml:"id"`
}

func intp(n int) *int { return &n }
