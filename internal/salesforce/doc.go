// Package salesforce is a client for the Salesforce APIs Trellis uses,
// written to the public protocol: OAuth 2.0 (web-server flow with PKCE,
// refresh, JWT bearer, username-password), the Metadata API over SOAP and
// REST, the Tooling API for Apex tests, and the REST, Bulk 2.0 and sObject
// Collections data APIs.
//
// A Client talks to one org. It refreshes an expired session once and
// retries the call, backs off and retries on server errors, connection
// failures and REQUEST_LIMIT_EXCEEDED, tracks the org's API usage from the
// Sforce-Limit-Info header, and keeps access tokens out of logs and
// errors. Everything an org answers is checked before it is believed:
// malformed SOAP or JSON, an HTML error page or a truncated zip becomes a
// typed error naming the operation and the org, with a short excerpt.
//
// The same Client drives a real org and the simulator in internal/orgsim;
// nothing above this package knows which it talks to.
package salesforce
