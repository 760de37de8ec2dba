package orgsim

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
)

// childRelName is how a parent names the children a reference field
// links to it ("Contacts" for Contact.AccountId).
func childRelName(child *objDef, f fieldDef) string {
	if f.ChildRel != "" {
		return f.ChildRel
	}
	return strings.ReplaceAll(child.LabelPlural, " ", "")
}

// childRelation finds the child object and field behind a parent's child
// relationship name. o.mu is held.
func (o *Org) childRelation(parent *objDef, rel string) (*objDef, string) {
	for _, n := range o.sobjectNames() {
		other := o.schema(n)
		for _, f := range other.Fields {
			if f.Type == "reference" && strings.EqualFold(f.Ref, parent.Name) && !strings.HasSuffix(f.Name, "ById") && f.Name != "OwnerId" &&
				strings.EqualFold(childRelName(other, f), rel) {
				return other, f.Name
			}
		}
	}
	return nil, ""
}

// compositeTree is POST /composite/tree/{sObject}: records with their
// children, created together or not at all (`sf data import tree`).
func (o *Org) compositeTree(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Records []map[string]any `json:"records"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	def := o.schema(chi.URLParam(r, "name"))
	if def == nil || readOnly(def.Name) {
		restError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	// Rows go in as they are made, so children can refer to their parent;
	// a failure anywhere takes them all out again.
	before := map[string]int{}
	// Fields in Salesforce's order: referenceId first.
	type treeResult struct {
		ReferenceID string           `json:"referenceId"`
		ID          any              `json:"id,omitempty"`
		Errors      []map[string]any `json:"errors,omitempty"`
	}
	var results, failures []treeResult
	count := 0
	var walk func(def *objDef, recs []map[string]any, parentField string, parentID any)
	walk = func(def *objDef, recs []map[string]any, parentField string, parentID any) {
		for _, rec := range recs {
			count++
			attrs, _ := rec["attributes"].(map[string]any)
			ref, _ := attrs["referenceId"].(string)
			typ, _ := attrs["type"].(string)
			fail := func(code, msg string, fields ...string) {
				if fields == nil {
					fields = []string{}
				}
				failures = append(failures, treeResult{ReferenceID: ref, Errors: []map[string]any{{"statusCode": code, "message": msg, "fields": fields}}})
			}
			if ref == "" {
				fail("INVALID_INPUT", "Include a reference ID for each record in the request.")
				continue
			}
			if !strings.EqualFold(typ, def.Name) {
				fail("INVALID_INPUT", fmt.Sprintf("The type of the record (%s) must be %s.", typ, def.Name))
				continue
			}
			fields := map[string]any{}
			children := map[string][]map[string]any{}
			for k, v := range rec {
				if m, ok := v.(map[string]any); ok && k != "attributes" {
					list, _ := m["records"].([]any)
					for _, x := range list {
						if c, ok := x.(map[string]any); ok {
							children[k] = append(children[k], c)
						}
					}
					continue
				}
				fields[k] = v
			}
			if parentField != "" {
				fields[parentField] = parentID
			}
			row, errs := o.writeRecord(def, fields, nil, time.Now())
			if errs != nil {
				failures = append(failures, treeResult{ReferenceID: ref, Errors: errs})
				continue
			}
			if _, ok := before[def.Name]; !ok {
				before[def.Name] = len(o.st.Records[def.Name])
			}
			o.st.Records[def.Name] = append(o.st.Records[def.Name], row)
			results = append(results, treeResult{ReferenceID: ref, ID: row["Id"]})
			for rel, kids := range children {
				child, field := o.childRelation(def, rel)
				if child == nil {
					fail("INVALID_FIELD", fmt.Sprintf("No such column '%s' on entity '%s'.", rel, def.Name), rel)
					continue
				}
				walk(child, kids, field, row["Id"])
			}
		}
	}
	walk(def, body.Records, "", nil)
	if len(failures) > 0 || count > 200 {
		for obj, n := range before {
			o.st.Records[obj] = o.st.Records[obj][:n]
		}
	}
	if count > 200 {
		restError(w, http.StatusBadRequest, "INVALID_INPUT", "The request can contain up to 200 records in total.")
		return
	}
	if len(failures) > 0 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"hasErrors": true, "results": failures})
		return
	}
	o.saveLocked()
	if results == nil {
		results = []treeResult{}
	}
	writeJSON(w, http.StatusCreated, map[string]any{"hasErrors": false, "results": results})
}
