package orgsim

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/trellis-alm/trellis/internal/metadata"
)

// soap serves the Metadata API.
func (o *Org) soap(w http.ResponseWriter, r *http.Request) {
	v, ok := versionOK(chi.URLParam(r, "version"))
	if !ok || v < minVersion || v > maxVersion {
		soapFault(w, "UNSUPPORTED_API_VERSION", fmt.Sprintf("Invalid Api version specified on URL: %s", chi.URLParam(r, "version")))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 200<<20))
	if err != nil {
		soapFault(w, "INVALID_REQUEST", "the request could not be read")
		return
	}
	env, err := metadata.ParseXML(body)
	if err != nil || env.Name != "Envelope" || env.Child("Body") == nil {
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>soapenv:Client</faultcode><faultstring>%s</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>`,
			esc("Unable to parse the request: not a SOAP envelope"))
		return
	}
	sid := ""
	if h := env.Child("Header"); h != nil {
		if sh := h.Child("SessionHeader"); sh != nil {
			sid = strings.TrimSpace(sh.ChildText("sessionId"))
		}
	}
	o.mu.Lock()
	_, valid := o.st.Sessions[sid]
	o.mu.Unlock()
	if !valid {
		soapFault(w, "INVALID_SESSION_ID", "Invalid Session ID found in SessionHeader: Illegal Session")
		return
	}
	var op *metadata.Node
	for _, c := range env.Child("Body").Children {
		if c.Name != "" {
			op = c
			break
		}
	}
	if op == nil {
		soapFault(w, "INVALID_REQUEST", "the SOAP Body is empty")
		return
	}
	var result any
	switch op.Name {
	case "deploy":
		result, err = o.soapDeploy(op)
	case "checkDeployStatus":
		result, err = o.soapCheckDeploy(op)
	case "deployRecentValidation":
		result, err = o.soapQuickDeploy(op)
	case "cancelDeploy":
		result, err = o.soapCancel(op)
	case "retrieve":
		result, err = o.soapRetrieve(op)
	case "checkRetrieveStatus":
		result, err = o.soapCheckRetrieve(op)
	case "listMetadata":
		result, err = o.soapList(op)
	case "describeMetadata":
		result = o.soapDescribe()
	default:
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>soapenv:Client</faultcode><faultstring>%s</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>`,
			esc("No operation available for request {http://soap.sforce.com/2006/04/metadata}"+op.Name))
		return
	}
	if err != nil {
		var f *faultErr
		if ok := asFault(err, &f); ok {
			soapFault(w, f.code, f.msg)
			return
		}
		soapFault(w, "UNKNOWN_EXCEPTION", err.Error())
		return
	}
	writeSOAP(w, op.Name+"Response", result)
}

type faultErr struct{ code, msg string }

func (f *faultErr) Error() string { return f.code + ": " + f.msg }

func asFault(err error, f **faultErr) bool {
	x, ok := err.(*faultErr)
	if ok {
		*f = x
	}
	return ok
}

// writeSOAP writes a response envelope; results are one <result> or, for
// slices, one per element.
func writeSOAP(w http.ResponseWriter, element string, result any) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="http://soap.sforce.com/2006/04/metadata" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><`)
	b.WriteString(element + ">")
	enc := xml.NewEncoder(&b)
	switch r := result.(type) {
	case string:
		b.WriteString("<result>" + esc(r) + "</result>")
	case []xFileProperties:
		for _, x := range r {
			enc.EncodeElement(x, xml.StartElement{Name: xml.Name{Local: "result"}})
		}
	default:
		enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: "result"}})
	}
	enc.Flush()
	b.WriteString("</" + element + "></soapenv:Body></soapenv:Envelope>")
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes())
}

// arg finds a parameter by any of its names (the WSDL's and the aliases
// real clients send), or else by position.
func arg(op *metadata.Node, pos int, names ...string) *metadata.Node {
	var elems []*metadata.Node
	for _, c := range op.Children {
		if c.Name == "" {
			continue
		}
		for _, n := range names {
			if strings.EqualFold(c.Name, n) {
				return c
			}
		}
		elems = append(elems, c)
	}
	if pos < len(elems) {
		return elems[pos]
	}
	return nil
}

func text(n *metadata.Node) string {
	if n == nil {
		return ""
	}
	return strings.TrimSpace(n.Text)
}

func parseDeployOptions(n *metadata.Node) deployOpts {
	o := deployOpts{RollbackOnError: true}
	if n == nil {
		return o
	}
	b := func(name string, def bool) bool {
		if c := n.Child(name); c != nil {
			return strings.TrimSpace(c.Text) == "true"
		}
		return def
	}
	o.AllowMissingFiles = b("allowMissingFiles", false)
	o.AutoUpdatePackage = b("autoUpdatePackage", false)
	o.CheckOnly = b("checkOnly", false)
	o.IgnoreWarnings = b("ignoreWarnings", false)
	o.PerformRetrieve = b("performRetrieve", false)
	o.PurgeOnDelete = b("purgeOnDelete", false)
	o.RollbackOnError = b("rollbackOnError", false)
	o.SinglePackage = b("singlePackage", false)
	o.TestLevel = text(n.Child("testLevel"))
	for _, c := range n.Children {
		if c.Name == "runTests" && strings.TrimSpace(c.Text) != "" {
			o.RunTests = append(o.RunTests, strings.TrimSpace(c.Text))
		}
	}
	return o
}

func (o *Org) soapDeploy(op *metadata.Node) (any, error) {
	zipB64 := text(arg(op, 0, "ZipFile", "zipFile"))
	zip, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(zipB64), ""))
	if err != nil {
		return nil, &faultErr{"INVALID_REQUEST", "ZipFile is not base64"}
	}
	opts := parseDeployOptions(arg(op, 1, "DeployOptions", "deployOptions"))
	j := o.submitDeploy(zip, opts, false, "")
	return xAsyncResult{ID: j.id, State: "Queued"}, nil
}

// submitDeploy evaluates a deploy and queues it.
func (o *Org) submitDeploy(zip []byte, opts deployOpts, rest bool, validatedID string) *deployJob {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := time.Now()
	j := &deployJob{id: o.nextID("0Af"), opts: opts, created: now, step: o.sim.opts.Step, rest: rest, validatedID: validatedID}
	j.out = o.evaluate(zip, opts, now, validatedID != "")
	if opts.CheckOnly {
		j.payloadZip = zip
	}
	o.deploys[j.id] = j
	return j
}

func (o *Org) findDeploy(id string) *deployJob {
	for k, j := range o.deploys {
		if sameID(k, id) {
			return j
		}
	}
	return nil
}

func (o *Org) soapCheckDeploy(op *metadata.Node) (any, error) {
	id := text(arg(op, 0, "asyncProcessId", "id"))
	details := text(arg(op, 1, "includeDetails")) == "true"
	o.mu.Lock()
	defer o.mu.Unlock()
	j := o.findDeploy(id)
	if j == nil {
		return nil, &faultErr{"INVALID_ID_FIELD", "invalid id: " + id}
	}
	return o.deployView(j, time.Now(), details), nil
}

// quickDeploy starts a deploy of a recent validation.
func (o *Org) quickDeploy(id string) (*deployJob, error) {
	o.mu.Lock()
	var rec *deployRecord
	for _, d := range o.st.Deploys {
		if sameID(d.ID, id) {
			rec = d
		}
	}
	switch {
	case rec == nil:
		o.mu.Unlock()
		return nil, &faultErr{"INVALID_ID_FIELD", "No validation found for id " + id}
	case !rec.CheckOnly || rec.Status != "Succeeded" || !rec.TestsRan || rec.TestErrors > 0:
		o.mu.Unlock()
		return nil, &faultErr{"INVALID_ID_FIELD", "The validation " + id + " is not eligible for quick deploy: it must be a successful check-only deploy that ran tests"}
	case rec.QuickUsed || rec.Payload == nil:
		o.mu.Unlock()
		return nil, &faultErr{"INVALID_ID_FIELD", "The validation " + id + " has already been deployed"}
	case time.Since(rec.Completed) > 10*24*time.Hour:
		o.mu.Unlock()
		return nil, &faultErr{"INVALID_ID_FIELD", "The validation " + id + " is older than 10 days"}
	}
	opts := rec.Opts
	opts.CheckOnly = false
	opts.TestLevel = "NoTestRun"
	payload := rec.Payload
	o.mu.Unlock()
	// Quick deploys run no tests; the validation's did.
	j := o.submitDeploy(payload, opts, false, rec.ID)
	return j, nil
}

func (o *Org) soapQuickDeploy(op *metadata.Node) (any, error) {
	id := text(arg(op, 0, "validationId", "validationID", "id"))
	j, err := o.quickDeploy(id)
	if err != nil {
		return nil, err
	}
	return j.id, nil
}

// cancelDeploy asks a deploy to stop.
func (o *Org) cancelDeploy(id string) (*deployJob, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	j := o.findDeploy(id)
	if j == nil {
		return nil, &faultErr{"INVALID_ID_FIELD", "invalid id: " + id}
	}
	now := time.Now()
	if !now.Before(j.finalAt()) {
		return nil, &faultErr{"INVALID_ID_FIELD", "The deployment " + id + " has already completed and cannot be canceled"}
	}
	if j.canceledAt.IsZero() {
		j.canceledAt = now
	}
	return j, nil
}

func (o *Org) soapCancel(op *metadata.Node) (any, error) {
	id := text(arg(op, 0, "String", "id", "asyncProcessId"))
	j, err := o.cancelDeploy(id)
	if err != nil {
		return nil, err
	}
	pendingEnd, _, _ := j.phases()
	return xCancelDeployResult{Done: j.canceledAt.Before(pendingEnd), ID: j.id}, nil
}

func (o *Org) soapDescribe() any {
	o.mu.Lock()
	prod := o.st.Kind == Production
	o.mu.Unlock()
	out := xDescribeMetadata{PartialSaveAllowed: !prod, TestRequired: prod}
	for _, t := range metadata.DefaultRegistry.Types() {
		if t.IsChild() || t.Hidden {
			continue
		}
		mo := xMetadataObject{DirectoryName: t.Dir, InFolder: t.InFolder(), MetaFile: t.Shape == metadata.ShapeContent || t.Shape == metadata.ShapeMixed, Suffix: t.Suffix, TypeName: t.Name}
		for _, c := range t.Children() {
			mo.ChildXMLNames = append(mo.ChildXMLNames, c.Name)
		}
		out.MetadataObjects = append(out.MetadataObjects, mo)
	}
	return out
}
