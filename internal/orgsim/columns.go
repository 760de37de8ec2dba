package orgsim

import "strings"

// columnMetadata answers a query asked with columns=true, as Salesforce
// does: what each selected column is, relationship fields nested under
// their relationship ("Account.Name" is column Account joining Name). The
// Salesforce CLI asks this before `sf data query` to lay out its table.
func columnMetadata(q *soqlQuery, t *table) map[string]any {
	var cols []map[string]any
	if !q.count {
		cols = columnsOf(q.fields, t.def, t.org)
	}
	if cols == nil {
		cols = []map[string]any{}
	}
	return map[string]any{"columnMetadata": cols, "entityName": t.name, "groupBy": false, "idSelected": hasID(q.fields), "keyPrefix": keyPrefix(t.def)}
}

func hasID(fields []string) bool {
	for _, f := range fields {
		if strings.EqualFold(f, "Id") {
			return true
		}
	}
	return false
}

func keyPrefix(def *objDef) any {
	if def == nil || def.KeyPrefix == "" {
		return nil
	}
	return def.KeyPrefix
}

// columnsOf describes fields (dotted paths) of def, grouping paths by
// their first step in the order they were first selected. o.mu is held.
func columnsOf(fields []string, def *objDef, o *Org) []map[string]any {
	var out []map[string]any
	joins := map[string]int{} // relationship → index in out
	var rest = map[string][]string{}
	for _, f := range fields {
		head, tail, dotted := strings.Cut(f, ".")
		if !dotted {
			out = append(out, column(f, def))
			continue
		}
		key := strings.ToLower(head)
		if _, ok := joins[key]; !ok {
			name := head
			if def != nil {
				if rf := def.relation(head); rf != nil {
					name = rf.RelName
				}
			}
			joins[key] = len(out)
			out = append(out, map[string]any{"aggregate": false, "apexType": nil, "booleanType": false, "columnName": name, "custom": strings.HasSuffix(name, "__r"),
				"displayName": name, "foreignKeyName": nil, "insertable": false, "joinColumns": []map[string]any{}, "numberType": false, "textType": false, "updatable": false})
		}
		rest[key] = append(rest[key], tail)
	}
	for key, tails := range rest {
		var target *objDef
		if def != nil {
			if rf := def.relation(key); rf != nil && o != nil {
				target = o.schema(rf.Ref)
			}
		}
		out[joins[key]]["joinColumns"] = columnsOf(tails, target, o)
	}
	return out
}

// column describes one field of def.
func column(name string, def *objDef) map[string]any {
	apex, kind := "String", "text"
	custom := strings.HasSuffix(strings.ToLower(name), "__c")
	updatable, insertable := false, false
	if def != nil {
		if f := def.field(name); f != nil {
			name, custom, updatable, insertable = f.Name, f.Custom, f.Updateable, f.Createable
			switch f.Type {
			case "id", "reference":
				apex, kind = "Id", "id"
			case "boolean":
				apex, kind = "Boolean", "boolean"
			case "int":
				apex, kind = "Integer", "number"
			case "double", "currency", "percent":
				apex, kind = "Double", "number"
			case "date":
				apex, kind = "Date", "date"
			case "datetime":
				apex, kind = "Datetime", "date"
			}
		}
	}
	return map[string]any{"aggregate": false, "apexType": apex, "booleanType": kind == "boolean", "columnName": name, "custom": custom,
		"displayName": name, "foreignKeyName": nil, "insertable": insertable, "joinColumns": []map[string]any{}, "numberType": kind == "number",
		"textType": kind == "text", "updatable": updatable}
}
