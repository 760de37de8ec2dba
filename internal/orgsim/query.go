package orgsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// orderedRecord marshals its fields in the order they were selected, as
// Salesforce does, "attributes" first.
type orderedRecord struct {
	keys []string
	vals []any
}

func (r *orderedRecord) set(k string, v any) {
	r.keys = append(r.keys, k)
	r.vals = append(r.vals, v)
}

func (r *orderedRecord) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range r.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(r.vals[i])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// table is a queryable set of rows with a way to read fields.
type table struct {
	name    string
	rows    []Record
	tooling bool
	def     *objDef // nil for Tooling objects, which take any field their rows have
	org     *Org
}

// tableFor finds an sObject (or Tooling object). o.mu is held.
func (o *Org) tableFor(name string, tooling, all bool) (*table, error) {
	if tooling {
		rows, ok := o.toolingTable(name)
		if !ok {
			return nil, &queryError{code: "INVALID_TYPE", msg: fmt.Sprintf("sObject type '%s' is not supported.", name)}
		}
		canon := name
		if len(rows) > 0 {
			canon = toolingName(name)
		}
		return &table{name: toolingName(canon), rows: rows, tooling: true, org: o}, nil
	}
	def := o.schema(name)
	if def == nil {
		return nil, &queryError{code: "INVALID_TYPE", msg: fmt.Sprintf("sObject type '%s' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.", name)}
	}
	var rows []Record
	src := o.st.Records[def.Name]
	if def.Name == "SetupAuditTrail" {
		src = o.st.Audit
	}
	for _, r := range src {
		if !all && r["IsDeleted"] == true {
			continue
		}
		rows = append(rows, r)
	}
	return &table{name: def.Name, rows: rows, def: def, org: o}, nil
}

var toolingNames = []string{"ApexLog", "ApexCodeCoverage", "ApexClass", "ApexTrigger", "ApexTestRunResult", "ApexTestQueueItem", "ApexTestResult", "ApexCodeCoverageAggregate", "ApexOrgWideCoverage", "DeployRequest"}

func toolingName(n string) string {
	for _, t := range toolingNames {
		if strings.EqualFold(t, n) {
			return t
		}
	}
	return n
}

// get reads a field, following a relationship one level up. ok is false
// for a field the object does not have.
func (t *table) get(r Record, field string) (any, bool) {
	rel, sub, isRel := strings.Cut(field, ".")
	if !isRel {
		if t.def != nil {
			f := t.def.field(field)
			if f == nil {
				return nil, false
			}
			return r[f.Name], true
		}
		for k, v := range r {
			if strings.EqualFold(k, field) {
				return v, true
			}
		}
		return nil, t.toolingField(field)
	}
	if t.def == nil {
		for k, v := range r {
			if strings.EqualFold(k, rel) {
				if m, ok := v.(Record); ok {
					for k2, v2 := range m {
						if strings.EqualFold(k2, sub) {
							return v2, true
						}
					}
				}
				return nil, v == nil
			}
		}
		return nil, false
	}
	f := t.def.relation(rel)
	if f == nil || strings.Contains(sub, ".") {
		return nil, false
	}
	target := t.org.schema(f.Ref)
	if target == nil || target.field(sub) == nil {
		return nil, false
	}
	id, _ := r[f.Name].(string)
	if id == "" {
		return nil, true
	}
	for _, pr := range t.org.st.Records[target.Name] {
		if sameID(fmt.Sprint(pr["Id"]), id) {
			return pr[target.field(sub).Name], true
		}
	}
	return nil, true
}

// toolingField says whether a Tooling object has a field its rows lack
// (every row null there).
func (t *table) toolingField(field string) bool {
	if len(t.rows) == 0 {
		return true
	}
	return false
}

// run executes a parsed query.
func (t *table) run(q *soqlQuery) ([]Record, []*orderedRecord, error) {
	var matched []Record
	for _, r := range t.rows {
		if q.where != nil {
			ok, err := q.where.eval(func(f string) (any, bool) { return t.get(r, f) })
			if err != nil {
				if qe, isQE := err.(*queryError); isQE && qe.field != "" {
					return nil, nil, t.noColumn(qe.field)
				}
				return nil, nil, err
			}
			if !ok {
				continue
			}
		}
		matched = append(matched, r)
	}
	for _, it := range q.orderBy {
		if _, ok := t.get(Record{}, it.field); !ok && t.def != nil {
			return nil, nil, t.noColumn(it.field)
		}
	}
	sortRows(matched, q.orderBy, func(r Record, f string) any { v, _ := t.get(r, f); return v })
	if q.offset > 0 {
		if q.offset >= len(matched) {
			matched = nil
		} else {
			matched = matched[q.offset:]
		}
	}
	if q.limit >= 0 && q.limit < len(matched) {
		matched = matched[:q.limit]
	}
	if q.count {
		return matched, nil, nil
	}
	for _, f := range q.fields {
		if _, ok := t.get(Record{}, f); !ok && (t.def != nil || len(t.rows) == 0) {
			if t.def != nil {
				return nil, nil, t.noColumn(f)
			}
		}
		if t.def == nil && len(t.rows) > 0 {
			if _, ok := t.get(t.rows[0], f); !ok {
				return nil, nil, t.noColumn(f)
			}
		}
	}
	out := make([]*orderedRecord, 0, len(matched))
	for _, r := range matched {
		out = append(out, t.shape(r, q.fields))
	}
	return matched, out, nil
}

func (t *table) noColumn(f string) error {
	return &queryError{code: "INVALID_FIELD", field: f, msg: fmt.Sprintf("No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.", f, t.name)}
}

// shape renders a row with the selected fields, relationships nested.
func (t *table) shape(r Record, fields []string) *orderedRecord {
	out := &orderedRecord{}
	id, _ := r["Id"].(string)
	out.set("attributes", attrs(t.name, id, t.tooling))
	nested := map[string]*orderedRecord{}
	for _, f := range fields {
		rel, sub, isRel := strings.Cut(f, ".")
		if !isRel {
			v, _ := t.get(r, f)
			name := f
			if t.def != nil {
				name = t.def.field(f).Name
			}
			out.set(name, v)
			continue
		}
		relName, relType, relID := rel, "", ""
		if t.def != nil {
			rf := t.def.relation(rel)
			relName, relType = rf.RelName, rf.Ref
			relID, _ = r[rf.Name].(string)
			if relID == "" {
				if _, seen := nested[strings.ToLower(relName)]; !seen {
					nested[strings.ToLower(relName)] = nil
					out.set(relName, nil)
				}
				continue
			}
		} else if m, ok := r[rel].(Record); ok {
			if a, ok := m["attributes"].(map[string]any); ok {
				relType, _ = a["type"].(string)
			}
		} else {
			if _, seen := nested[strings.ToLower(relName)]; !seen {
				nested[strings.ToLower(relName)] = nil
				out.set(relName, nil)
			}
			continue
		}
		n, seen := nested[strings.ToLower(relName)]
		if !seen {
			n = &orderedRecord{}
			n.set("attributes", attrs(relType, relID, t.tooling))
			nested[strings.ToLower(relName)] = n
			out.set(relName, n)
		}
		if n == nil {
			continue
		}
		v, _ := t.get(r, f)
		if t.def != nil {
			if target := t.org.schema(relType); target != nil && target.field(sub) != nil {
				sub = target.field(sub).Name
			}
		}
		n.set(sub, v)
	}
	return out
}
