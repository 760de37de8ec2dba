package salesforce

import "context"

// Org is what Trellis does with a connected org. *Client implements it;
// whether the org behind it is real or the simulator, nothing above
// this package can tell.
type Org interface {
	Name() string
	APIVersion() string

	// Metadata API
	Deploy(ctx context.Context, zip []byte, opts DeployOptions) (string, error)
	CheckDeployStatus(ctx context.Context, id string, details bool) (*DeployResult, error)
	WaitDeploy(ctx context.Context, id string, progress func(*DeployResult)) (*DeployResult, error)
	DeployRecentValidation(ctx context.Context, validationID string) (string, error)
	CancelDeploy(ctx context.Context, id string) (*CancelDeployResult, error)
	Retrieve(ctx context.Context, req RetrieveRequest, progress func(*RetrieveResult)) (*RetrieveResult, error)
	ListMetadata(ctx context.Context, queries []ListMetadataQuery) ([]FileProperties, error)
	DescribeMetadata(ctx context.Context) (*DescribeMetadataResult, error)

	// Apex tests
	RunTestsAsynchronous(ctx context.Context, req TestRequest) (string, error)
	RunTestsSynchronous(ctx context.Context, class string, methods ...string) (*RunTestsResult, error)
	WaitTests(ctx context.Context, jobID string, progress func(*TestRun)) (*TestRun, error)
	AbortTests(ctx context.Context, jobID string) error
	CodeCoverage(ctx context.Context, ids []string) ([]CodeCoverage, error)
	OrgWideCoverage(ctx context.Context) (int, error)

	// Data
	DescribeGlobal(ctx context.Context) (*DescribeGlobalResult, error)
	Describe(ctx context.Context, sobject string) (*SObjectDescribe, error)
	QueryEach(ctx context.Context, soql string, all bool, fn func([]Record, int) error) error
	StartBulkQuery(ctx context.Context, soql string, all bool) (*BulkJob, error)
	WaitBulkQuery(ctx context.Context, id string, progress func(*BulkJob)) (*BulkJob, error)
	BulkQueryResults(ctx context.Context, id string, maxRecords int, fn func([]byte, int) error) error
	CreateRecords(ctx context.Context, records []Record, allOrNone bool) ([]SaveResult, error)
	UpdateRecords(ctx context.Context, records []Record, allOrNone bool) ([]SaveResult, error)
	UpsertRecords(ctx context.Context, sobject, externalIDField string, records []Record, allOrNone bool) ([]SaveResult, error)
	DeleteRecords(ctx context.Context, ids []string, allOrNone bool) ([]SaveResult, error)
	CreateRecord(ctx context.Context, sobject string, fields map[string]any) (string, error)
	UpsertRecord(ctx context.Context, sobject, field, value string, fields map[string]any) (*SaveResult, error)
	RecordCount(ctx context.Context, sobjects ...string) (map[string]int, error)
	Composite(ctx context.Context, allOrNone bool, reqs []CompositeRequest) ([]CompositeResponse, error)

	// Limits
	Limits(ctx context.Context) (map[string]Limit, error)
	Usage() Usage
}

var _ Org = (*Client)(nil)
