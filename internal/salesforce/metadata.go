package salesforce

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
)

// DeployOptions are the Metadata API's, in WSDL order.
type DeployOptions struct {
	AllowMissingFiles bool      `json:"allowMissingFiles"`
	AutoUpdatePackage bool      `json:"autoUpdatePackage"`
	CheckOnly         bool      `json:"checkOnly"`
	IgnoreWarnings    bool      `json:"ignoreWarnings"`
	PerformRetrieve   bool      `json:"performRetrieve"`
	PurgeOnDelete     bool      `json:"purgeOnDelete"`
	RollbackOnError   bool      `json:"rollbackOnError"`
	RunTests          []string  `json:"runTests,omitempty"`
	SinglePackage     bool      `json:"singlePackage"`
	TestLevel         TestLevel `json:"testLevel,omitempty"`
}

// TestLevel says which Apex tests a deploy runs.
type TestLevel string

const (
	NoTestRun         TestLevel = "NoTestRun"
	RunSpecifiedTests TestLevel = "RunSpecifiedTests"
	RunLocalTests     TestLevel = "RunLocalTests"
	RunAllTestsInOrg  TestLevel = "RunAllTestsInOrg"
	RunRelevantTests  TestLevel = "RunRelevantTests"
)

// AsyncResult is what starting a deploy or retrieve answers.
type AsyncResult struct {
	Done       bool   `xml:"done"`
	ID         string `xml:"id"`
	State      string `xml:"state"`
	Message    string `xml:"message"`
	StatusCode string `xml:"statusCode"`
}

// DeployStatus values.
const (
	StatusPending          = "Pending"
	StatusInProgress       = "InProgress"
	StatusSucceeded        = "Succeeded"
	StatusSucceededPartial = "SucceededPartial"
	StatusFailed           = "Failed"
	StatusCanceling        = "Canceling"
	StatusCanceled         = "Canceled"
)

// DeployResult is checkDeployStatus's answer (and deployRequest's
// deployResult over REST).
type DeployResult struct {
	CanceledBy               string        `xml:"canceledBy" json:"canceledBy"`
	CanceledByName           string        `xml:"canceledByName" json:"canceledByName"`
	CheckOnly                bool          `xml:"checkOnly" json:"checkOnly"`
	CompletedDate            Time          `xml:"completedDate" json:"completedDate"`
	CreatedBy                string        `xml:"createdBy" json:"createdBy"`
	CreatedByName            string        `xml:"createdByName" json:"createdByName"`
	CreatedDate              Time          `xml:"createdDate" json:"createdDate"`
	Details                  DeployDetails `xml:"details" json:"details"`
	Done                     bool          `xml:"done" json:"done"`
	ErrorMessage             string        `xml:"errorMessage" json:"errorMessage"`
	ErrorStatusCode          string        `xml:"errorStatusCode" json:"errorStatusCode"`
	ID                       string        `xml:"id" json:"id"`
	IgnoreWarnings           bool          `xml:"ignoreWarnings" json:"ignoreWarnings"`
	LastModifiedDate         Time          `xml:"lastModifiedDate" json:"lastModifiedDate"`
	NumberComponentErrors    int           `xml:"numberComponentErrors" json:"numberComponentErrors"`
	NumberComponentsDeployed int           `xml:"numberComponentsDeployed" json:"numberComponentsDeployed"`
	NumberComponentsTotal    int           `xml:"numberComponentsTotal" json:"numberComponentsTotal"`
	NumberTestErrors         int           `xml:"numberTestErrors" json:"numberTestErrors"`
	NumberTestsCompleted     int           `xml:"numberTestsCompleted" json:"numberTestsCompleted"`
	NumberTestsTotal         int           `xml:"numberTestsTotal" json:"numberTestsTotal"`
	RollbackOnError          bool          `xml:"rollbackOnError" json:"rollbackOnError"`
	RunTestsEnabled          bool          `xml:"runTestsEnabled" json:"runTestsEnabled" alias:"isRunTestsEnabled"`
	StartDate                Time          `xml:"startDate" json:"startDate"`
	StateDetail              string        `xml:"stateDetail" json:"stateDetail"`
	Status                   string        `xml:"status" json:"status"`
	Success                  bool          `xml:"success" json:"success"`
}

// Finished reports whether the deploy reached a final status.
func (r *DeployResult) Finished() bool {
	switch r.Status {
	case StatusSucceeded, StatusSucceededPartial, StatusFailed, StatusCanceled:
		return true
	}
	return r.Done
}

// DeployDetails lists what happened to each component and test.
type DeployDetails struct {
	ComponentFailures  []DeployMessage `xml:"componentFailures" json:"componentFailures"`
	ComponentSuccesses []DeployMessage `xml:"componentSuccesses" json:"componentSuccesses"`
	RetrieveResult     *RetrieveResult `xml:"retrieveResult" json:"retrieveResult"`
	RunTestResult      *RunTestsResult `xml:"runTestResult" json:"runTestResult" alias:"runTestResults"`
}

// DeployMessage is the outcome for one component.
type DeployMessage struct {
	Changed       bool   `xml:"changed" json:"changed"`
	ColumnNumber  int    `xml:"columnNumber" json:"columnNumber"`
	ComponentType string `xml:"componentType" json:"componentType"`
	Created       bool   `xml:"created" json:"created"`
	CreatedDate   Time   `xml:"createdDate" json:"createdDate"`
	Deleted       bool   `xml:"deleted" json:"deleted"`
	FileName      string `xml:"fileName" json:"fileName"`
	FullName      string `xml:"fullName" json:"fullName"`
	ID            string `xml:"id" json:"id"`
	LineNumber    int    `xml:"lineNumber" json:"lineNumber"`
	Problem       string `xml:"problem" json:"problem"`
	ProblemType   string `xml:"problemType" json:"problemType"`
	Success       bool   `xml:"success" json:"success"`
}

// RunTestsResult is the Apex test outcome of a deploy or a synchronous run.
type RunTestsResult struct {
	ApexLogID            string                `xml:"apexLogId" json:"apexLogId"`
	CodeCoverage         []CodeCoverageResult  `xml:"codeCoverage" json:"codeCoverage"`
	CodeCoverageWarnings []CodeCoverageWarning `xml:"codeCoverageWarnings" json:"codeCoverageWarnings"`
	Failures             []RunTestFailure      `xml:"failures" json:"failures"`
	FlowCoverage         []FlowCoverageResult  `xml:"flowCoverage" json:"flowCoverage"`
	NumFailures          int                   `xml:"numFailures" json:"numFailures"`
	NumTestsRun          int                   `xml:"numTestsRun" json:"numTestsRun" alias:"numRun"`
	Successes            []RunTestSuccess      `xml:"successes" json:"successes"`
	TotalTime            float64               `xml:"totalTime" json:"totalTime"`
}

// RunTestFailure is one failed test method.
type RunTestFailure struct {
	ID         string  `xml:"id" json:"id"`
	Message    string  `xml:"message" json:"message"`
	MethodName string  `xml:"methodName" json:"methodName"`
	Name       string  `xml:"name" json:"name"`
	Namespace  string  `xml:"namespace" json:"namespace"`
	StackTrace string  `xml:"stackTrace" json:"stackTrace"`
	Time       float64 `xml:"time" json:"time"`
	Type       string  `xml:"type" json:"type"`
}

// RunTestSuccess is one passed test method.
type RunTestSuccess struct {
	ID         string  `xml:"id" json:"id"`
	MethodName string  `xml:"methodName" json:"methodName"`
	Name       string  `xml:"name" json:"name"`
	Namespace  string  `xml:"namespace" json:"namespace"`
	Time       float64 `xml:"time" json:"time"`
}

// CodeCoverageResult is the coverage of one class or trigger.
type CodeCoverageResult struct {
	ID                     string         `xml:"id" json:"id"`
	Name                   string         `xml:"name" json:"name"`
	Namespace              string         `xml:"namespace" json:"namespace"`
	Type                   string         `xml:"type" json:"type"`
	NumLocations           int            `xml:"numLocations" json:"numLocations"`
	NumLocationsNotCovered int            `xml:"numLocationsNotCovered" json:"numLocationsNotCovered"`
	LocationsNotCovered    []CodeLocation `xml:"locationsNotCovered" json:"locationsNotCovered"`
}

// Percent is the share of locations covered, 0–100.
func (c CodeCoverageResult) Percent() float64 {
	if c.NumLocations == 0 {
		return 100
	}
	return 100 * float64(c.NumLocations-c.NumLocationsNotCovered) / float64(c.NumLocations)
}

// CodeLocation is a line of Apex.
type CodeLocation struct {
	Column        int     `xml:"column" json:"column"`
	Line          int     `xml:"line" json:"line"`
	NumExecutions int     `xml:"numExecutions" json:"numExecutions"`
	Time          float64 `xml:"time" json:"time"`
}

// CodeCoverageWarning is a coverage rule the deploy did not meet.
type CodeCoverageWarning struct {
	ID        string `xml:"id" json:"id"`
	Message   string `xml:"message" json:"message"`
	Name      string `xml:"name" json:"name"`
	Namespace string `xml:"namespace" json:"namespace"`
}

// FlowCoverageResult is the coverage of one flow.
type FlowCoverageResult struct {
	FlowID                string `xml:"flowId" json:"flowId"`
	FlowName              string `xml:"flowName" json:"flowName"`
	NumElements           int    `xml:"numElements" json:"numElements"`
	NumElementsNotCovered int    `xml:"numElementsNotCovered" json:"numElementsNotCovered"`
}

// RetrieveRequest names what to retrieve: a package.xml (Unpackaged) or
// packages by name.
type RetrieveRequest struct {
	APIVersion    string
	PackageNames  []string
	SinglePackage bool
	SpecificFiles []string
	// Unpackaged is the manifest: type name → members.
	Unpackaged map[string][]string
}

// RetrieveResult is checkRetrieveStatus's answer. ZipFile is decoded.
type RetrieveResult struct {
	Done            bool              `xml:"done" json:"done"`
	ErrorMessage    string            `xml:"errorMessage" json:"errorMessage"`
	ErrorStatusCode string            `xml:"errorStatusCode" json:"errorStatusCode"`
	FileProperties  []FileProperties  `xml:"fileProperties" json:"fileProperties"`
	ID              string            `xml:"id" json:"id"`
	Messages        []RetrieveMessage `xml:"messages" json:"messages"`
	Status          string            `xml:"status" json:"status"`
	Success         bool              `xml:"success" json:"success"`
	ZipBase64       string            `xml:"zipFile" json:"zipFile"`
	ZipFile         []byte            `xml:"-" json:"-"`
}

// RetrieveMessage is a problem met while retrieving (a member not found).
type RetrieveMessage struct {
	FileName string `xml:"fileName" json:"fileName"`
	Problem  string `xml:"problem" json:"problem"`
}

// FileProperties describes one component in an org.
type FileProperties struct {
	CreatedByID        string `xml:"createdById" json:"createdById"`
	CreatedByName      string `xml:"createdByName" json:"createdByName"`
	CreatedDate        Time   `xml:"createdDate" json:"createdDate"`
	FileName           string `xml:"fileName" json:"fileName"`
	FullName           string `xml:"fullName" json:"fullName"`
	ID                 string `xml:"id" json:"id"`
	LastModifiedByID   string `xml:"lastModifiedById" json:"lastModifiedById"`
	LastModifiedByName string `xml:"lastModifiedByName" json:"lastModifiedByName"`
	LastModifiedDate   Time   `xml:"lastModifiedDate" json:"lastModifiedDate"`
	ManageableState    string `xml:"manageableState" json:"manageableState"`
	NamespacePrefix    string `xml:"namespacePrefix" json:"namespacePrefix"`
	Type               string `xml:"type" json:"type"`
}

// ListMetadataQuery asks for the components of a type (in a folder, for
// folder-based types).
type ListMetadataQuery struct {
	Type   string
	Folder string
}

// DescribeMetadataResult lists the org's metadata types.
type DescribeMetadataResult struct {
	MetadataObjects       []MetadataObject `xml:"metadataObjects"`
	OrganizationNamespace string           `xml:"organizationNamespace"`
	PartialSaveAllowed    bool             `xml:"partialSaveAllowed"`
	TestRequired          bool             `xml:"testRequired"`
}

// MetadataObject describes a metadata type.
type MetadataObject struct {
	ChildXMLNames []string `xml:"childXmlNames"`
	DirectoryName string   `xml:"directoryName"`
	InFolder      bool     `xml:"inFolder"`
	MetaFile      bool     `xml:"metaFile"`
	Suffix        string   `xml:"suffix"`
	TypeName      string   `xml:"xmlName"`
}

// CancelDeployResult answers cancelDeploy.
type CancelDeployResult struct {
	Done bool   `xml:"done"`
	ID   string `xml:"id"`
}

// Deploy starts deploying a zip; poll with CheckDeployStatus or WaitDeploy.
func (c *Client) Deploy(ctx context.Context, zip []byte, opts DeployOptions) (string, error) {
	enc := base64.StdEncoding.EncodeToString(zip)
	var out struct {
		Result AsyncResult `xml:"result"`
	}
	err := c.soap(ctx, "deploy", func(w *xmlWriter) {
		w.open("deploy")
		w.leaf("ZipFile", enc)
		w.open("DeployOptions")
		w.bool("allowMissingFiles", opts.AllowMissingFiles)
		w.bool("autoUpdatePackage", opts.AutoUpdatePackage)
		w.bool("checkOnly", opts.CheckOnly)
		w.bool("ignoreWarnings", opts.IgnoreWarnings)
		w.bool("performRetrieve", opts.PerformRetrieve)
		w.bool("purgeOnDelete", opts.PurgeOnDelete)
		w.bool("rollbackOnError", opts.RollbackOnError)
		for _, t := range opts.RunTests {
			w.leaf("runTests", t)
		}
		w.bool("singlePackage", opts.SinglePackage)
		if opts.TestLevel != "" {
			w.leaf("testLevel", string(opts.TestLevel))
		}
		w.close("DeployOptions")
		w.close("deploy")
	}, &out, false)
	if err != nil {
		return "", err
	}
	if out.Result.ID == "" {
		return "", &Error{Op: "deploy", Org: c.cfg.Name, Message: "the org returned no deploy id", Err: ErrMalformed}
	}
	return out.Result.ID, nil
}

// CheckDeployStatus reports a deploy's progress; with details, the
// component and test outcomes.
func (c *Client) CheckDeployStatus(ctx context.Context, id string, details bool) (*DeployResult, error) {
	var out struct {
		Result DeployResult `xml:"result"`
	}
	err := c.soap(ctx, "checkDeployStatus", func(w *xmlWriter) {
		w.open("checkDeployStatus")
		w.leaf("asyncProcessId", id)
		w.bool("includeDetails", details)
		w.close("checkDeployStatus")
	}, &out, true)
	if err != nil {
		return nil, err
	}
	return &out.Result, nil
}

// DeployRecentValidation quick-deploys a validation that passed with its
// tests; it returns the new deploy's id.
func (c *Client) DeployRecentValidation(ctx context.Context, validationID string) (string, error) {
	var out struct {
		Result string `xml:"result"`
	}
	err := c.soap(ctx, "deployRecentValidation", func(w *xmlWriter) {
		w.open("deployRecentValidation")
		w.leaf("validationId", validationID)
		w.close("deployRecentValidation")
	}, &out, false)
	if err != nil {
		return "", err
	}
	return out.Result, nil
}

// CancelDeploy asks the org to stop a deploy; Done is true when it was
// still queued and is already canceled.
func (c *Client) CancelDeploy(ctx context.Context, id string) (*CancelDeployResult, error) {
	var out struct {
		Result CancelDeployResult `xml:"result"`
	}
	err := c.soap(ctx, "cancelDeploy", func(w *xmlWriter) {
		w.open("cancelDeploy")
		w.leaf("String", id)
		w.close("cancelDeploy")
	}, &out, true)
	if err != nil {
		return nil, err
	}
	return &out.Result, nil
}

// WaitDeploy polls a deploy until it finishes or ctx ends, reporting each
// status to progress (which may be nil). The last poll has details.
func (c *Client) WaitDeploy(ctx context.Context, id string, progress func(*DeployResult)) (*DeployResult, error) {
	p := c.poller()
	for {
		r, err := c.CheckDeployStatus(ctx, id, false)
		if err != nil {
			return nil, err
		}
		if progress != nil {
			progress(r)
		}
		if r.Finished() {
			return c.CheckDeployStatus(ctx, id, true)
		}
		if err := p.wait(ctx); err != nil {
			return r, &Error{Op: "deploy " + id, Org: c.cfg.Name, Err: err}
		}
	}
}

// StartRetrieve starts a retrieve; poll with CheckRetrieveStatus.
func (c *Client) StartRetrieve(ctx context.Context, req RetrieveRequest) (string, error) {
	version := req.APIVersion
	if version == "" {
		version = c.cfg.APIVersion
	}
	var out struct {
		Result AsyncResult `xml:"result"`
	}
	err := c.soap(ctx, "retrieve", func(w *xmlWriter) {
		w.open("retrieve")
		w.open("retrieveRequest")
		w.leaf("apiVersion", version)
		for _, p := range req.PackageNames {
			w.leaf("packageNames", p)
		}
		w.bool("singlePackage", req.SinglePackage)
		for _, f := range req.SpecificFiles {
			w.leaf("specificFiles", f)
		}
		if req.Unpackaged != nil {
			w.open("unpackaged")
			for _, t := range sortedKeys(req.Unpackaged) {
				w.open("types")
				for _, m := range sortedCopy(req.Unpackaged[t]) {
					w.leaf("members", m)
				}
				w.leaf("name", t)
				w.close("types")
			}
			w.leaf("version", version)
			w.close("unpackaged")
		}
		w.close("retrieveRequest")
		w.close("retrieve")
	}, &out, false)
	if err != nil {
		return "", err
	}
	if out.Result.ID == "" {
		return "", &Error{Op: "retrieve", Org: c.cfg.Name, Message: "the org returned no retrieve id", Err: ErrMalformed}
	}
	return out.Result.ID, nil
}

// CheckRetrieveStatus reports a retrieve's progress; with zip, the
// retrieved files once done (ZipFile, decoded).
func (c *Client) CheckRetrieveStatus(ctx context.Context, id string, zip bool) (*RetrieveResult, error) {
	var out struct {
		Result RetrieveResult `xml:"result"`
	}
	err := c.soap(ctx, "checkRetrieveStatus", func(w *xmlWriter) {
		w.open("checkRetrieveStatus")
		w.leaf("asyncProcessId", id)
		w.bool("includeZip", zip)
		w.close("checkRetrieveStatus")
	}, &out, true)
	if err != nil {
		return nil, err
	}
	r := &out.Result
	if r.ZipBase64 != "" {
		b, err := base64.StdEncoding.DecodeString(r.ZipBase64)
		if err != nil {
			return nil, &Error{Op: "checkRetrieveStatus", Org: c.cfg.Name, Message: "the zip is not valid base64", Err: ErrMalformed}
		}
		r.ZipFile, r.ZipBase64 = b, ""
	}
	return r, nil
}

// ListMetadata lists the components of up to three types per call (more
// queries are split into several calls).
func (c *Client) ListMetadata(ctx context.Context, queries []ListMetadataQuery) ([]FileProperties, error) {
	var all []FileProperties
	for start := 0; start < len(queries); start += 3 {
		batch := queries[start:min(start+3, len(queries))]
		var out struct {
			Result []FileProperties `xml:"result"`
		}
		err := c.soap(ctx, "listMetadata", func(w *xmlWriter) {
			w.open("listMetadata")
			for _, q := range batch {
				w.open("queries")
				if q.Folder != "" {
					w.leaf("folder", q.Folder)
				}
				w.leaf("type", q.Type)
				w.close("queries")
			}
			w.leaf("asOfVersion", c.cfg.APIVersion)
			w.close("listMetadata")
		}, &out, true)
		if err != nil {
			return nil, err
		}
		all = append(all, out.Result...)
	}
	return all, nil
}

// DescribeMetadata lists the org's metadata types.
func (c *Client) DescribeMetadata(ctx context.Context) (*DescribeMetadataResult, error) {
	var out struct {
		Result DescribeMetadataResult `xml:"result"`
	}
	err := c.soap(ctx, "describeMetadata", func(w *xmlWriter) {
		w.open("describeMetadata")
		w.leaf("asOfVersion", c.cfg.APIVersion)
		w.close("describeMetadata")
	}, &out, true)
	if err != nil {
		return nil, err
	}
	return &out.Result, nil
}

func versionFloat(v string) float64 {
	f, _ := strconv.ParseFloat(v, 64)
	return f
}

var _ = fmt.Sprint
