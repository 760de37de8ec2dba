// Package metadata reads, compares and writes Salesforce metadata: the type
// registry, readers for SFDX source format and Metadata API format,
// component sets with canonical content hashes, set and XML-aware diffs,
// package.xml and destructive-changes manifests, conversion between the two
// formats, deterministic deploy zips, git deltas and dependency extraction.
//
// It is a pure library: the standard library only, no database, no HTTP,
// no git. Inputs are file systems (fs.FS), so a project can come from a
// directory, a zip or a git revision. Every input is treated as hostile:
// XML with a DTD is refused, zip entries that escape their root or exceed
// size limits are refused, and every error names the file.
//
// The model: a Component is one addressable piece of metadata (type and
// fullName, e.g. CustomField "Account.Tier__c"). Addressable children of
// decomposable types (fields of an object, labels of CustomLabels, rules of
// a Workflow) are components of their own in every format, so a change to
// one field is a change to that field only, whether the project keeps the
// object in one file or one file per field.
package metadata
