package orgsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
)

func (o *Org) rest(r chi.Router) {
	r.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			v, ok := versionOK(chi.URLParam(r, "version"))
			switch {
			case !ok || !strings.HasPrefix(chi.URLParam(r, "version"), "v"):
				restError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
				return
			case v < minVersion:
				restError(w, http.StatusGone, "API_VERSION_RETIRED", fmt.Sprintf("Version %.1f of the API is retired", v))
				return
			case v > maxVersion:
				restError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
				return
			}
			if !o.bearer(w, r) {
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	r.Get("/", o.resources)
	r.Get("/limits", o.limits)
	r.Get("/limits/recordCount", o.recordCount)
	r.Get("/sobjects", o.describeGlobal)
	r.Get("/sobjects/{name}/describe", o.describe)
	r.Post("/sobjects/{name}", o.createOne)
	r.Post("/sobjects/{name}/", o.createOne)
	r.Patch("/sobjects/{name}/{field}/{value}", o.upsertOne)
	r.Post("/composite", o.composite)
	r.Post("/composite/tree/{name}", o.compositeTree)
	r.Post("/tooling/runTestsSynchronous", o.runTestsSync)
	r.Post("/tooling/runTestsSynchronous/", o.runTestsSync)
	r.Get("/sobjects/{name}/{id}", o.getOne)
	r.Patch("/sobjects/{name}/{id}", o.updateOne)
	r.Delete("/sobjects/{name}/{id}", o.deleteOne)
	r.Get("/query", o.query(false, false))
	r.Get("/query/", o.query(false, false))
	r.Get("/queryAll", o.query(true, false))
	r.Get("/queryAll/", o.query(true, false))
	r.Get("/query/{cursor}", o.more)
	r.Get("/queryAll/{cursor}", o.more)
	r.Get("/tooling/query", o.query(false, true))
	r.Get("/tooling/query/", o.query(false, true))
	r.Get("/tooling/query/{cursor}", o.more)
	r.Post("/tooling/runTestsAsynchronous", o.runTestsAsync)
	r.Post("/tooling/runTestsAsynchronous/", o.runTestsAsync)
	r.Patch("/tooling/sobjects/{name}/{id}", o.updateOne)
	r.Get("/tooling/sobjects/{name}/describe", o.toolingDescribe)
	r.Get("/tooling/sobjects/ApexLog/{id}/Body", o.apexLogBody)
	r.Get("/sobjects/ApexLog/{id}/Body", o.apexLogBody)
	r.Post("/composite/sobjects", o.collection("create"))
	r.Patch("/composite/sobjects", o.collection("update"))
	r.Delete("/composite/sobjects", o.collectionDelete)
	r.Get("/composite/sobjects/{name}", o.collectionRead)
	r.Patch("/composite/sobjects/{name}/{field}", o.collection("upsert"))
	r.Post("/jobs/ingest", o.ingestCreate)
	r.Get("/jobs/ingest", o.ingestList)
	r.Get("/jobs/ingest/{id}", o.ingestGet)
	r.Patch("/jobs/ingest/{id}", o.ingestPatch)
	r.Delete("/jobs/ingest/{id}", o.ingestDelete)
	r.Put("/jobs/ingest/{id}/batches", o.ingestUpload)
	r.Get("/jobs/ingest/{id}/successfulResults", o.ingestResults("successfulResults"))
	r.Get("/jobs/ingest/{id}/failedResults", o.ingestResults("failedResults"))
	r.Get("/jobs/ingest/{id}/unprocessedrecords", o.ingestResults("unprocessedrecords"))
	r.Post("/jobs/query", o.bulkCreate)
	r.Get("/jobs/query", o.bulkList)
	r.Get("/jobs/query/{id}", o.bulkGet)
	r.Patch("/jobs/query/{id}", o.bulkAbort)
	r.Delete("/jobs/query/{id}", o.bulkDelete)
	r.Get("/jobs/query/{id}/results", o.bulkResults)
	r.Post("/metadata/deployRequest", o.restDeploy)
	r.Get("/metadata/deployRequest/{id}", o.restDeployStatus)
	r.Patch("/metadata/deployRequest/{id}", o.restDeployCancel)
	r.Post("/metadata/deployRequest/{id}", o.restQuickDeploy)
}

func (o *Org) base(r *http.Request) string {
	return "/services/data/" + chi.URLParam(r, "version")
}

func (o *Org) resources(w http.ResponseWriter, r *http.Request) {
	b := o.base(r)
	writeJSON(w, http.StatusOK, map[string]string{
		"sobjects": b + "/sobjects", "query": b + "/query", "queryAll": b + "/queryAll", "tooling": b + "/tooling",
		"limits": b + "/limits", "composite": b + "/composite", "jobs": b + "/jobs", "metadata": b + "/metadata",
	})
}

func (o *Org) limits(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	used, max := o.st.APIUsed, o.st.APIMax
	if o.faults.LimitExhausted {
		used = max
	}
	bulkUsed := len(o.bulk)
	o.mu.Unlock()
	lim := func(m, rem int) map[string]int { return map[string]int{"Max": m, "Remaining": rem} }
	out := map[string]any{
		"DailyApiRequests":         lim(max, max-used),
		"DailyBulkV2QueryJobs":     lim(10000, 10000-bulkUsed),
		"DailyBulkApiRequests":     lim(15000, 15000-bulkUsed),
		"DailyAsyncApexExecutions": lim(250000, 250000),
	}
	// The org's other limits, untouched by anything the simulator does.
	for name, m := range map[string]int{
		"ConcurrentAsyncGetReportInstances": 200, "ConcurrentSyncReportRuns": 20, "DailyBulkV2QueryFileStorageMB": 976562,
		"DailyDurableGenericStreamingApiEvents": 10000, "DailyDurableStreamingApiEvents": 10000, "DailyGenericStreamingApiEvents": 10000,
		"DailyStreamingApiEvents": 10000, "DailyWorkflowEmails": 390, "DataStorageMB": 1024, "DurableStreamingApiConcurrentClients": 20,
		"FileStorageMB": 10240, "HourlyAsyncReportRuns": 1200, "HourlyDashboardRefreshes": 200, "HourlyDashboardResults": 5000,
		"HourlyDashboardStatuses": 999999999, "HourlyODataCallout": 10000, "HourlySyncReportRuns": 500, "HourlyTimeBasedWorkflow": 50,
		"MassEmail": 10, "SingleEmail": 15, "StreamingApiConcurrentClients": 20,
	} {
		out[name] = lim(m, m)
	}
	writeJSON(w, http.StatusOK, out)
}

func (o *Org) recordCount(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []map[string]any
	for _, name := range splitList(r.URL.Query().Get("sObjects")) {
		def := o.schema(name)
		if def == nil {
			continue
		}
		n := 0
		for _, rec := range o.st.Records[def.Name] {
			if rec["IsDeleted"] != true {
				n++
			}
		}
		out = append(out, map[string]any{"count": n, "name": def.Name})
	}
	writeJSON(w, http.StatusOK, map[string]any{"sObjects": out})
}

func (o *Org) describeGlobal(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var list []map[string]any
	b := o.base(r)
	for _, n := range o.sobjectNames() {
		d := o.schema(n)
		list = append(list, map[string]any{
			"name": d.Name, "label": d.Label, "labelPlural": d.LabelPlural, "keyPrefix": d.KeyPrefix, "custom": d.Custom,
			"customSetting": false, "queryable": true, "retrieveable": true, "replicateable": !readOnly(d.Name),
			"createable": !readOnly(d.Name), "updateable": !readOnly(d.Name), "deletable": !readOnly(d.Name) && d.Name != "User",
			"undeletable": !readOnly(d.Name), "deprecatedAndHidden": false, "isSubtype": false, "layoutable": true, "searchable": true,
			"activateable": false, "associateEntityType": nil, "associateParentEntity": nil, "deepCloneable": false, "feedEnabled": !d.Custom,
			"hasSubtypes": false, "isInterface": false, "mergeable": d.Name == "Account" || d.Name == "Contact", "mruEnabled": true, "triggerable": !readOnly(d.Name),
			"urls": objectURLs(b, d.Name),
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": list})
}

// objectURLs are the resource links describe answers carry.
func objectURLs(base, name string) map[string]string {
	o := base + "/sobjects/" + name
	return map[string]string{
		"sobject": o, "describe": o + "/describe", "rowTemplate": o + "/{ID}", "compactLayouts": o + "/describe/compactLayouts",
		"approvalLayouts": o + "/describe/approvalLayouts", "listviews": o + "/listviews", "quickActions": o + "/quickActions",
		"layouts": o + "/describe/layouts", "namedLayouts": o + "/describe/namedLayouts/{LayoutName}", "defaultValues": o + "/defaultValues?recordTypeId&fields",
		"uiDetailTemplate": "/{ID}", "uiEditTemplate": "/{ID}/e", "uiNewRecord": "/" + name + "/e",
		"eventSchema": o + "/eventSchema", "passwordUtilities": base + "/sobjects/User/{ID}/password",
		"caseArticleSuggestions": base + "/sobjects/Case/suggestedArticles", "caseRowArticleSuggestions": base + "/sobjects/Case/{ID}/suggestedArticles",
		"workOrderArticleSuggestions": base + "/sobjects/WorkOrder/suggestedArticles", "workOrderRowArticleSuggestions": base + "/sobjects/WorkOrder/{ID}/suggestedArticles",
		"workOrderLineItemArticleSuggestions": base + "/sobjects/WorkOrderLineItem/suggestedArticles", "workOrderLineItemRowArticleSuggestions": base + "/sobjects/WorkOrderLineItem/{ID}/suggestedArticles",
	}
}

func soapTypeOf(t string) string {
	switch t {
	case "id", "reference":
		return "tns:ID"
	case "boolean":
		return "xsd:boolean"
	case "int":
		return "xsd:int"
	case "double", "currency", "percent":
		return "xsd:double"
	case "date":
		return "xsd:date"
	case "datetime":
		return "xsd:dateTime"
	}
	return "xsd:string"
}

func (o *Org) describe(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	d := o.schema(chi.URLParam(r, "name"))
	if d == nil {
		restError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	var fields []map[string]any
	for _, f := range d.Fields {
		var refs []string
		if f.Ref != "" {
			refs = []string{f.Ref}
		} else {
			refs = []string{}
		}
		var pick []map[string]any
		for _, p := range f.Picklist {
			pick = append(pick, map[string]any{"active": true, "defaultValue": false, "label": p, "value": p, "validFor": nil})
		}
		if pick == nil {
			pick = []map[string]any{}
		}
		rel := any(nil)
		if f.RelName != "" {
			rel = f.RelName
		}
		fields = append(fields, map[string]any{
			"name": f.Name, "label": nonEmpty(f.Label, f.Name), "type": f.Type, "soapType": soapTypeOf(f.Type), "length": f.Length,
			"precision": 0, "scale": 0, "nillable": f.Nillable || (f.Type != "boolean" && f.Name != "Id"), "createable": f.Createable, "updateable": f.Updateable,
			"calculated": f.Calculated, "autoNumber": f.AutoNumber, "externalId": f.External, "idLookup": f.Name == "Id" || f.External,
			"unique": f.Unique, "custom": f.Custom, "defaultedOnCreate": f.Type == "boolean" || strings.HasSuffix(f.Name, "Date") && !f.Createable,
			"referenceTo": refs, "relationshipName": rel, "compoundFieldName": nil, "picklistValues": pick, "filterable": true, "sortable": f.Type != "textarea",
			"aggregatable": f.Type != "textarea", "aiPredictionField": false, "byteLength": 3 * f.Length, "calculatedFormula": nil, "cascadeDelete": false,
			"caseSensitive": false, "controllerName": nil, "defaultValue": nil, "defaultValueFormula": nil, "dependentPicklist": false,
			"deprecatedAndHidden": false, "digits": 0, "displayLocationInDecimal": false, "encrypted": false, "extraTypeInfo": nil,
			"filteredLookupInfo": nil, "formulaTreatNullNumberAsZero": false, "groupable": f.Type != "textarea" && f.Type != "double",
			"highScaleNumber": false, "htmlFormatted": false, "inlineHelpText": nil, "mask": nil, "maskType": nil, "nameField": f.Name == "Name",
			"namePointing": false, "permissionable": f.Custom, "polymorphicForeignKey": false, "queryByDistance": false, "referenceTargetField": nil,
			"relationshipOrder": nil, "restrictedDelete": false, "restrictedPicklist": false, "searchPrefilterable": f.Type == "reference",
			"writeRequiresMasterRead": false,
		})
	}
	var children []map[string]any
	for _, n := range o.sobjectNames() {
		other := o.schema(n)
		for _, f := range other.Fields {
			if f.Type == "reference" && strings.EqualFold(f.Ref, d.Name) && !strings.HasSuffix(f.Name, "ById") && f.Name != "OwnerId" {
				children = append(children, map[string]any{"childSObject": other.Name, "field": f.Name, "relationshipName": childRelName(other, f), "cascadeDelete": false,
					"deprecatedAndHidden": false, "junctionIdListNames": []string{}, "junctionReferenceTo": []string{}, "restrictedDelete": false})
			}
		}
	}
	if children == nil {
		children = []map[string]any{}
	}
	b := o.base(r)
	writeJSON(w, http.StatusOK, map[string]any{
		"name": d.Name, "label": d.Label, "labelPlural": d.LabelPlural, "keyPrefix": d.KeyPrefix, "custom": d.Custom,
		"queryable": true, "createable": true, "updateable": true, "deletable": true, "retrieveable": true, "replicateable": true,
		"fields": fields, "childRelationships": children, "recordTypeInfos": []any{}, "urls": objectURLs(b, d.Name),
		"activateable": false, "compactLayoutable": true, "customSetting": false, "deepCloneable": false, "defaultImplementation": nil,
		"deprecatedAndHidden": false, "extendedBy": nil, "extendsInterfaces": nil, "feedEnabled": !d.Custom, "hasSubtypes": false,
		"implementedBy": nil, "implementsInterfaces": nil, "isInterface": false, "isSubtype": false, "layoutable": true, "listviewable": nil,
		"lookupLayoutable": nil, "mergeable": d.Name == "Account" || d.Name == "Contact", "mruEnabled": true, "networkScopeFieldName": nil,
		"searchLayoutable": true, "searchable": true, "triggerable": true, "undeletable": true,
	})
}

// cursor is a query's remaining rows.
type cursor struct {
	records []*orderedRecord
	total   int
	batch   int
	pos     int
	created time.Time
}

func batchSize(r *http.Request) int {
	for _, part := range strings.Split(r.Header.Get("Sforce-Query-Options"), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		if strings.EqualFold(k, "batchSize") {
			if n, err := strconv.Atoi(v); err == nil {
				return min(max(n, 200), 2000)
			}
		}
	}
	return 2000
}

func (o *Org) query(all, tooling bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query().Get("q")
		if q == "" {
			restError(w, http.StatusBadRequest, "MALFORMED_QUERY", "A query string has to be specified")
			return
		}
		parsed, err := parseSOQL(q)
		if err != nil {
			o.queryFailed(w, err)
			return
		}
		o.mu.Lock()
		defer o.mu.Unlock()
		t, err := o.tableFor(parsed.from, tooling, all)
		if err != nil {
			o.queryFailed(w, err)
			return
		}
		matched, shaped, err := t.run(parsed)
		if err != nil {
			o.queryFailed(w, err)
			return
		}
		if r.URL.Query().Get("columns") == "true" {
			writeJSON(w, http.StatusOK, columnMetadata(parsed, t))
			return
		}
		if parsed.count {
			writeJSON(w, http.StatusOK, map[string]any{"totalSize": len(matched), "done": true, "records": []any{}})
			return
		}
		c := &cursor{records: shaped, total: len(shaped), batch: batchSize(r), created: time.Now()}
		o.page(w, r, c, tooling, t.name)
	}
}

func (o *Org) queryFailed(w http.ResponseWriter, err error) {
	var qe *queryError
	if errors.As(err, &qe) {
		msg := qe.msg
		restError(w, http.StatusBadRequest, qe.code, msg)
		return
	}
	restError(w, http.StatusBadRequest, "MALFORMED_QUERY", err.Error())
}

// page writes the next page of a cursor; o.mu is held.
func (o *Org) page(w http.ResponseWriter, r *http.Request, c *cursor, tooling bool, entity string) {
	end := min(c.pos+c.batch, len(c.records))
	recs := c.records[c.pos:end]
	body := map[string]any{"totalSize": c.total, "done": end >= len(c.records), "records": recs}
	if recs == nil {
		body["records"] = []any{}
	}
	if tooling {
		body["size"] = c.total
		body["queryLocator"] = nil
		body["entityTypeName"] = entity
	}
	c.pos = end
	if end < len(c.records) {
		id := o.nextID("01g")
		o.cursors[id] = c
		prefix := "/query/"
		if tooling {
			prefix = "/tooling/query/"
		}
		next := o.base(r) + prefix + id + "-" + strconv.Itoa(end)
		body["nextRecordsUrl"] = next
		if tooling {
			body["queryLocator"] = id + "-" + strconv.Itoa(end)
		}
	}
	writeJSON(w, http.StatusOK, body)
}

func (o *Org) more(w http.ResponseWriter, r *http.Request) {
	id, _, _ := strings.Cut(chi.URLParam(r, "cursor"), "-")
	o.mu.Lock()
	defer o.mu.Unlock()
	c, ok := o.cursors[id]
	if !ok || time.Since(c.created) > 15*time.Minute {
		restError(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
		return
	}
	delete(o.cursors, id)
	o.page(w, r, c, strings.Contains(r.URL.Path, "/tooling/"), "")
}

// writeRecord validates and stores one record (create or update). It
// returns the row's errors. o.mu is held.
func (o *Org) writeRecord(def *objDef, in map[string]any, existing Record, now time.Time) (Record, []map[string]any) {
	row := Record{}
	if existing != nil {
		for k, v := range existing {
			row[k] = v
		}
	}
	var errs []map[string]any
	for k, v := range in {
		if k == "attributes" || (k == "Id" && (existing != nil || v == nil)) {
			continue
		}
		f := def.field(k)
		if f == nil {
			errs = append(errs, map[string]any{"statusCode": "INVALID_FIELD", "message": fmt.Sprintf("No such column '%s' on sobject of type %s", k, def.Name), "fields": []string{k}})
			continue
		}
		if (existing == nil && !f.Createable) || (existing != nil && !f.Updateable) {
			errs = append(errs, map[string]any{"statusCode": "INVALID_FIELD_FOR_INSERT_UPDATE", "message": fmt.Sprintf("Unable to create/update fields: %s. Please check the security settings of this field and verify that it is read/write for your profile or permission set.", f.Name), "fields": []string{f.Name}})
			continue
		}
		if v != nil && !typeOK(f, v) {
			errs = append(errs, map[string]any{"statusCode": "INVALID_TYPE_ON_FIELD_IN_RECORD", "message": fmt.Sprintf("%s: value not of required type: %v", f.Label, v), "fields": []string{f.Name}})
			continue
		}
		if f.Type == "reference" && v != nil {
			if !o.exists(f.Ref, fmt.Sprint(v)) {
				errs = append(errs, map[string]any{"statusCode": "INVALID_CROSS_REFERENCE_KEY", "message": fmt.Sprintf("%s: id value of incorrect type: %v", f.Label, v), "fields": []string{f.Name}})
				continue
			}
		}
		row[f.Name] = v
	}
	for _, req := range requiredFields[def.Name] {
		if existing == nil && (row[req] == nil || row[req] == "") {
			errs = append(errs, map[string]any{"statusCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing: [" + req + "]", "fields": []string{req}})
		}
	}
	if def.Custom && existing == nil && row["Name"] == nil {
		if f := def.field("Name"); f != nil && f.AutoNumber {
			row["Name"] = fmt.Sprintf("%s-%05d", strings.ToUpper(def.KeyPrefix), len(o.st.Records[def.Name])+1)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if existing == nil {
		row["Id"] = o.nextID(def.KeyPrefix)
		if def.field("OwnerId") != nil && row["OwnerId"] == nil {
			row["OwnerId"] = o.st.UserID
		}
		if def.Name == "Case" && row["CaseNumber"] == nil {
			row["CaseNumber"] = fmt.Sprintf("%08d", 1001+len(o.st.Records["Case"]))
		}
	}
	if def.Name == "Contact" {
		row["Name"] = strings.TrimSpace(fmt.Sprint(nonNil(row["FirstName"])) + " " + fmt.Sprint(nonNil(row["LastName"])))
	}
	o.stamp(row, def.Name, now)
	return row, nil
}

var requiredFields = map[string][]string{
	"Account": {"Name"}, "Contact": {"LastName"}, "Opportunity": {"Name", "StageName", "CloseDate"}, "User": {"Username"},
}

func nonNil(v any) any {
	if v == nil {
		return ""
	}
	return v
}

func typeOK(f *fieldDef, v any) bool {
	switch f.Type {
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "int", "double", "currency", "percent":
		switch v.(type) {
		case float64, json.Number:
			return true
		case string:
			_, err := strconv.ParseFloat(v.(string), 64)
			return err == nil
		}
		return false
	case "date", "datetime":
		s, ok := v.(string)
		if !ok {
			return false
		}
		_, ok = parseAnyTime(s)
		return ok
	}
	switch v.(type) {
	case string, float64, bool:
		return true
	}
	return false
}

func (o *Org) exists(obj, id string) bool {
	def := o.schema(obj)
	if def == nil {
		return false
	}
	for _, r := range o.st.Records[def.Name] {
		if sameID(fmt.Sprint(r["Id"]), id) && r["IsDeleted"] != true {
			return true
		}
	}
	return false
}

func (o *Org) findRecord(def *objDef, id string) (int, Record) {
	for i, r := range o.st.Records[def.Name] {
		if sameID(fmt.Sprint(r["Id"]), id) && r["IsDeleted"] != true {
			return i, r
		}
	}
	return -1, nil
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	d := json.NewDecoder(http.MaxBytesReader(w, r.Body, 32<<20))
	if err := d.Decode(v); err != nil {
		restError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "The request body is not valid JSON: "+err.Error())
		return false
	}
	return true
}

func (o *Org) createOne(w http.ResponseWriter, r *http.Request) {
	var in map[string]any
	if !readJSON(w, r, &in) {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	def := o.schema(chi.URLParam(r, "name"))
	if def == nil || readOnly(def.Name) {
		restError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	row, errs := o.writeRecord(def, in, nil, time.Now())
	if errs != nil {
		writeJSON(w, http.StatusBadRequest, restErrs(errs))
		return
	}
	o.st.Records[def.Name] = append(o.st.Records[def.Name], row)
	o.saveLocked()
	writeJSON(w, http.StatusCreated, map[string]any{"id": row["Id"], "success": true, "errors": []any{}})
}

// restErrs turns collection-style errors into the REST error array.
func restErrs(errs []map[string]any) []map[string]any {
	out := make([]map[string]any, 0, len(errs))
	for _, e := range errs {
		out = append(out, map[string]any{"message": e["message"], "errorCode": e["statusCode"], "fields": e["fields"]})
	}
	return out
}

func (o *Org) getOne(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	def := o.schema(chi.URLParam(r, "name"))
	if def == nil {
		restError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	_, row := o.findRecord(def, chi.URLParam(r, "id"))
	if row == nil {
		restError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	t := &table{name: def.Name, def: def, org: o}
	var fields []string
	if fl := r.URL.Query().Get("fields"); fl != "" {
		fields = splitList(fl)
	} else {
		for _, f := range def.Fields {
			fields = append(fields, f.Name)
		}
	}
	writeJSON(w, http.StatusOK, t.shape(row, fields))
}

func (o *Org) updateOne(w http.ResponseWriter, r *http.Request) {
	var in map[string]any
	if !readJSON(w, r, &in) {
		return
	}
	name, id := chi.URLParam(r, "name"), chi.URLParam(r, "id")
	if strings.EqualFold(name, "ApexTestQueueItem") {
		if st, _ := in["Status"].(string); st == "Aborted" && o.abortQueueItem(id) {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		restError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	def := o.schema(name)
	if def == nil {
		restError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	i, row := o.findRecord(def, id)
	if row == nil {
		restError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	updated, errs := o.writeRecord(def, in, row, time.Now())
	if errs != nil {
		writeJSON(w, http.StatusBadRequest, restErrs(errs))
		return
	}
	o.st.Records[def.Name][i] = updated
	o.saveLocked()
	w.WriteHeader(http.StatusNoContent)
}

func (o *Org) deleteOne(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	def := o.schema(chi.URLParam(r, "name"))
	if def == nil {
		restError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	_, row := o.findRecord(def, chi.URLParam(r, "id"))
	if row == nil {
		restError(w, http.StatusNotFound, "ENTITY_IS_DELETED", "entity is deleted")
		return
	}
	row["IsDeleted"] = true
	o.stamp(row, def.Name, time.Now())
	o.saveLocked()
	w.WriteHeader(http.StatusNoContent)
}

// collection serves sObject Collections create, update and upsert.
func (o *Org) collection(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			AllOrNone bool             `json:"allOrNone"`
			Records   []map[string]any `json:"records"`
		}
		if !readJSON(w, r, &body) {
			return
		}
		if len(body.Records) > 200 {
			restError(w, http.StatusBadRequest, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into this call")
			return
		}
		o.mu.Lock()
		defer o.mu.Unlock()
		now := time.Now()
		type pending struct {
			def   *objDef
			index int // -1 for inserts
			row   Record
		}
		results := make([]map[string]any, len(body.Records))
		var writes []pending
		failed := false
		var upsertDef *objDef
		if kind == "upsert" {
			upsertDef = o.schema(chi.URLParam(r, "name"))
			if upsertDef == nil {
				restError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
				return
			}
		}
		for i, in := range body.Records {
			def := upsertDef
			if def == nil {
				typ := ""
				if a, ok := in["attributes"].(map[string]any); ok {
					typ, _ = a["type"].(string)
				}
				def = o.schema(typ)
			}
			fail := func(code, msg string, fields ...string) {
				if fields == nil {
					fields = []string{}
				}
				results[i] = map[string]any{"success": false, "errors": []map[string]any{{"statusCode": code, "message": msg, "fields": fields}}}
				failed = true
			}
			if def == nil || readOnly(def.Name) {
				fail("INVALID_TYPE", "sObject type is missing or not supported: attributes.type is required")
				continue
			}
			var existingIdx = -1
			var existing Record
			switch kind {
			case "update":
				id, _ := in["Id"].(string)
				if !looksLikeID(id) {
					fail("MALFORMED_ID", fmt.Sprintf("%s ID: id value of incorrect type: %s", def.Label, id), "Id")
					continue
				}
				existingIdx, existing = o.findRecord(def, id)
				if existing == nil {
					fail("ENTITY_IS_DELETED", "entity is deleted", "Id")
					continue
				}
			case "upsert":
				field := chi.URLParam(r, "field")
				f := def.field(field)
				if f == nil || (!f.External && f.Name != "Id") {
					fail("INVALID_FIELD", fmt.Sprintf("Field %s is not an external id field of %s", field, def.Name), field)
					continue
				}
				key := in[f.Name]
				if key != nil {
					matches := 0
					for j, row := range o.st.Records[def.Name] {
						if row["IsDeleted"] != true && fmt.Sprint(row[f.Name]) == fmt.Sprint(key) || (f.Name == "Id" && sameID(fmt.Sprint(row["Id"]), fmt.Sprint(key))) {
							matches++
							existingIdx, existing = j, row
						}
					}
					if matches > 1 {
						fail("DUPLICATE_EXTERNAL_ID", fmt.Sprintf("%s: more than one record found for external id field: %v", f.Name, key), f.Name)
						continue
					}
				}
			}
			row, errs := o.writeRecord(def, in, existing, now)
			if errs != nil {
				results[i] = map[string]any{"success": false, "errors": errs}
				failed = true
				continue
			}
			res := map[string]any{"id": row["Id"], "success": true, "errors": []any{}}
			if kind == "upsert" {
				res["created"] = existing == nil
			}
			results[i] = res
			writes = append(writes, pending{def, existingIdx, row})
		}
		if failed && body.AllOrNone {
			for i, res := range results {
				if res["success"] == true {
					rolled := map[string]any{"success": false, "errors": []map[string]any{{"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
						"message": "Record rolled back because not all records were valid and the request was using AllOrNone header", "fields": []string{}}}}
					if res["created"] != true && kind != "create" {
						rolled["id"] = res["id"] // an existing record keeps its id
					}
					results[i] = rolled
				}
			}
			writeJSON(w, http.StatusOK, results)
			return
		}
		for _, p := range writes {
			if p.index >= 0 {
				o.st.Records[p.def.Name][p.index] = p.row
			} else {
				o.st.Records[p.def.Name] = append(o.st.Records[p.def.Name], p.row)
			}
		}
		o.saveLocked()
		writeJSON(w, http.StatusOK, results)
	}
}

func (o *Org) collectionDelete(w http.ResponseWriter, r *http.Request) {
	ids := splitList(r.URL.Query().Get("ids"))
	allOrNone := r.URL.Query().Get("allOrNone") == "true"
	if len(ids) > 200 {
		restError(w, http.StatusBadRequest, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into this call")
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var results []map[string]any
	var rows []Record
	failed := false
	for _, id := range ids {
		var found Record
		for _, n := range o.sobjectNames() {
			def := o.schema(n)
			if _, row := o.findRecord(def, id); row != nil {
				found = row
				break
			}
		}
		if found == nil {
			failed = true
			results = append(results, map[string]any{"id": id, "success": false, "errors": []map[string]any{{"statusCode": "ENTITY_IS_DELETED", "message": "entity is deleted", "fields": []string{}}}})
			continue
		}
		rows = append(rows, found)
		results = append(results, map[string]any{"id": found["Id"], "success": true, "errors": []any{}})
	}
	if failed && allOrNone {
		for i, res := range results {
			if res["success"] == true {
				results[i] = map[string]any{"id": res["id"], "success": false, "errors": []map[string]any{{"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": "Record rolled back because not all records were valid and the request was using AllOrNone header", "fields": []string{}}}}
			}
		}
		writeJSON(w, http.StatusOK, results)
		return
	}
	now := time.Now()
	for _, row := range rows {
		row["IsDeleted"] = true
		o.stamp(row, "", now)
	}
	o.saveLocked()
	writeJSON(w, http.StatusOK, results)
}

func (o *Org) collectionRead(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	def := o.schema(chi.URLParam(r, "name"))
	if def == nil {
		restError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	fields := splitList(r.URL.Query().Get("fields"))
	t := &table{name: def.Name, def: def, org: o}
	var out []any
	for _, id := range splitList(r.URL.Query().Get("ids")) {
		_, row := o.findRecord(def, id)
		if row == nil {
			out = append(out, nil)
			continue
		}
		out = append(out, t.shape(row, fields))
	}
	writeJSON(w, http.StatusOK, out)
}

// restDeploy is POST /metadata/deployRequest (multipart: the options as
// JSON, the zip as "file").
func (o *Org) restDeploy(w http.ResponseWriter, r *http.Request) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		if strings.HasPrefix(mt, "application/json") {
			o.restQuickDeploy(w, r) // jsforce posts quick deploys here
			return
		}
		restError(w, http.StatusBadRequest, "INVALID_MULTIPART_REQUEST", "deployRequest needs a multipart/form-data body")
		return
	}
	mr := multipart.NewReader(http.MaxBytesReader(w, r.Body, 200<<20), params["boundary"])
	opts := deployOpts{RollbackOnError: true}
	var zip []byte
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			restError(w, http.StatusBadRequest, "INVALID_MULTIPART_REQUEST", err.Error())
			return
		}
		data, err := io.ReadAll(p)
		if err != nil {
			restError(w, http.StatusBadRequest, "INVALID_MULTIPART_REQUEST", err.Error())
			return
		}
		switch p.FormName() {
		case "json", "entity_content":
			var body struct {
				DeployOptions *deployOpts `json:"deployOptions"`
			}
			if err := json.Unmarshal(data, &body); err != nil {
				restError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "deployOptions: "+err.Error())
				return
			}
			if body.DeployOptions != nil {
				opts = *body.DeployOptions
			}
		case "file":
			zip = data
		}
	}
	if zip == nil {
		restError(w, http.StatusBadRequest, "INVALID_MULTIPART_REQUEST", "the zip file part \"file\" is missing")
		return
	}
	j := o.submitDeploy(zip, opts, true, "")
	o.mu.Lock()
	body := o.deployRequestBody(j, false)
	o.mu.Unlock()
	writeJSON(w, http.StatusCreated, body)
}

func (o *Org) deployRequestBody(j *deployJob, details bool) map[string]any {
	view := o.deployView(j, time.Now(), details)
	if !details {
		view.Details = nil
	} else {
		// REST adds a merged list and a few flags per message.
		d := view.Details
		d.ComponentFailures = restMessages(d.ComponentFailures)
		d.ComponentSuccesses = restMessages(d.ComponentSuccesses)
		d.AllComponentMessages = append(append([]xDeployMessage{}, d.ComponentSuccesses...), d.ComponentFailures...)
	}
	var validated any
	if j.validatedID != "" {
		validated = j.validatedID
	}
	opts := j.opts
	if opts.RunTests == nil {
		opts.RunTests = []string{}
	}
	return map[string]any{"id": j.id, "validatedDeployRequestId": validated, "deployOptions": opts, "deployResult": view}
}

func (o *Org) restDeployStatus(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	j := o.findDeploy(chi.URLParam(r, "id"))
	if j == nil {
		restError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	writeJSON(w, http.StatusOK, o.deployRequestBody(j, r.URL.Query().Get("includeDetails") == "true"))
}

func (o *Org) restDeployCancel(w http.ResponseWriter, r *http.Request) {
	var body struct {
		DeployResult struct {
			Status string `json:"status"`
		} `json:"deployResult"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	if body.DeployResult.Status != "Canceling" {
		restError(w, http.StatusBadRequest, "INVALID_INPUT", `only {"deployResult":{"status":"Canceling"}} is accepted`)
		return
	}
	j, err := o.cancelDeploy(chi.URLParam(r, "id"))
	if err != nil {
		restError(w, http.StatusBadRequest, "INVALID_ID_FIELD", err.(*faultErr).msg)
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	writeJSON(w, http.StatusAccepted, o.deployRequestBody(j, false))
}

func (o *Org) restQuickDeploy(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ValidatedDeployRequestID string `json:"validatedDeployRequestId"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	id := nonEmpty(chi.URLParam(r, "id"), body.ValidatedDeployRequestID)
	j, err := o.quickDeploy(id)
	if err != nil {
		restError(w, http.StatusNotFound, "NOT_FOUND", err.(*faultErr).msg)
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	writeJSON(w, http.StatusCreated, o.deployRequestBody(j, false))
}

var _ = sort.Strings

func restMessages(ms []xDeployMessage) []xDeployMessage {
	out := make([]xDeployMessage, len(ms))
	for i, m := range ms {
		m.Warning = m.ProblemType == "Warning"
		m.ForPackageManifestFile = m.FileName == "package.xml"
		m.rest = true
		out[i] = m
	}
	return out
}
