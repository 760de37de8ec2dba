package orgsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/trellis-alm/trellis/internal/metadata"
)

// admin serves the simulator-only endpoints. They take the org's own
// session like the APIs do, so only someone connected to the org can
// turn the knobs.
func (o *Org) admin(r chi.Router) {
	r.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if o.bearer(w, r) {
				next.ServeHTTP(w, r)
			}
		})
	})
	r.Post("/faults", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Faults
			LatencyMs int `json:"latencyMs"`
		}
		if !readJSON(w, r, &body) {
			return
		}
		f := body.Faults
		f.Latency = time.Duration(body.LatencyMs) * time.Millisecond
		o.SetFaults(f)
		w.WriteHeader(http.StatusNoContent)
	})
	r.Post("/expire-sessions", func(w http.ResponseWriter, r *http.Request) {
		o.ExpireSessions()
		w.WriteHeader(http.StatusNoContent)
	})
	r.Post("/setup-change", func(w http.ResponseWriter, r *http.Request) {
		var body SetupChange
		if !readJSON(w, r, &body) {
			return
		}
		if err := o.ChangeInSetup(body); err != nil {
			restError(w, http.StatusBadRequest, "INVALID_INPUT", err.Error())
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// SetupChange is an edit made "in Setup", outside any deploy.
type SetupChange struct {
	Type     string `json:"type"`     // e.g. CustomField
	FullName string `json:"fullName"` // e.g. Account.Tier__c
	// XML is the component's new metadata-format XML (for a child type,
	// the element as it sits in its parent, e.g. <fields>…</fields>). When
	// empty, the component's label (or description) is changed.
	XML string `json:"xml"`
	// Body is an Apex class's new source (XML is then its -meta.xml, or
	// the existing one when empty).
	Body    string `json:"body"`
	Delete  bool   `json:"delete"`
	User    string `json:"user"`    // who made it; "Setup User" by default
	Display string `json:"display"` // the audit trail's text; made up when empty
}

// ChangeInSetup edits a component as an admin would in Setup: no deploy,
// a new lastModifiedDate, and a SetupAuditTrail row.
func (o *Org) ChangeInSetup(ch SetupChange) error {
	t := metadata.DefaultRegistry.Type(ch.Type)
	if t == nil {
		return fmt.Errorf("unknown metadata type %q", ch.Type)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	now := time.Now()
	user := nonEmpty(ch.User, "Setup User")
	k := metadata.Key{Type: t.Name, Name: ch.FullName}
	existing := o.componentByManifestKey(k)
	action, display := "changed"+t.Name, ch.Display
	switch {
	case ch.Delete:
		if existing == nil {
			return fmt.Errorf("%s %s does not exist", ch.Type, ch.FullName)
		}
		o.deleteComponentLocked(existing.Key())
		action = "deleted" + t.Name
		display = nonEmpty(display, fmt.Sprintf("Deleted %s %s", t.Name, ch.FullName))
	default:
		c, err := o.setupComponent(t, ch, existing)
		if err != nil {
			return err
		}
		if existing == nil {
			action = "created" + t.Name
			display = nonEmpty(display, fmt.Sprintf("Created %s %s", t.Name, ch.FullName))
		} else {
			display = nonEmpty(display, fmt.Sprintf("Changed %s %s", t.Name, ch.FullName))
		}
		o.putComponentLocked(c, now, user)
	}
	section := "Customize " + strings.SplitN(ch.FullName, ".", 2)[0]
	if !strings.Contains(ch.FullName, ".") {
		section = t.Name
	}
	uid, uname := o.setupUserLocked(user)
	o.st.Audit = append(o.st.Audit, Record{"Id": o.nextID("0Ym"), "Action": action, "Section": section, "Display": display,
		"CreatedDate": restTime(now), "CreatedById": uid, "DelegateUser": nil, "SystemModstamp": restTime(now),
		"CreatedBy": Record{"attributes": attrs("User", uid, false), "Name": user, "Username": uname}})
	return o.saveMetadataLocked()
}

// setupUserLocked finds the org's user named name, adding one when there
// is none, so the audit trail's CreatedBy names who made a change the way
// a real org's does. o.mu is held.
func (o *Org) setupUserLocked(name string) (id, username string) {
	for _, u := range o.st.Records["User"] {
		if u["Name"] == name {
			return u["Id"].(string), u["Username"].(string)
		}
	}
	username = strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@" + o.st.Username[strings.Index(o.st.Username, "@")+1:]
	u := Record{"Username": username, "Name": name, "Email": username, "IsActive": true}
	o.insertSeed("User", u, time.Now())
	return u["Id"].(string), username
}

// setupComponent builds the component a Setup change leaves behind.
func (o *Org) setupComponent(t *metadata.Type, ch SetupChange, existing *metadata.Component) (*metadata.Component, error) {
	xmlText := ch.XML
	if ch.Body != "" && (t.Name == "ApexClass" || t.Name == "ApexTrigger") {
		if t.Name != "ApexClass" {
			return nil, fmt.Errorf("only Apex classes are edited by body here")
		}
		var meta []byte
		if ch.XML != "" {
			meta = []byte(ch.XML)
		} else if existing != nil && existing.XML != nil {
			meta = existing.XML.Marshal()
		}
		res, err := metadata.ReadMetadataFormat(metadata.MemFS(apexFiles(ch.FullName, ch.Body, meta)), metadata.ReadOptions{KeepContent: true})
		if err != nil {
			return nil, err
		}
		if c := res.Set.Get(metadata.Key{Type: t.Name, Name: ch.FullName}); c != nil {
			return c, nil
		}
		return nil, fmt.Errorf("could not read the class %s", ch.FullName)
	}
	if xmlText == "" {
		if existing == nil || existing.XML == nil {
			return nil, fmt.Errorf("%s %s does not exist; send its xml to create it", ch.Type, ch.FullName)
		}
		n := existing.XML.Clone()
		field := "description"
		if n.Child("label") != nil {
			field = "label"
		}
		if c := n.Child(field); c != nil {
			c.Text = strings.TrimSpace(c.Text) + " (edited)"
		} else {
			n.Children = append(n.Children, &metadata.Node{Name: field, Text: "Edited in Setup"})
		}
		c := *existing
		c.XML = n
		c.Rehash()
		return &c, nil
	}
	// Read it the way a retrieve of the component would come back.
	files := map[string][]byte{}
	switch {
	case t.IsChild():
		parent, _, _ := strings.Cut(ch.FullName, ".")
		pt := metadata.DefaultRegistry.Type(t.Parent)
		files[pt.Dir+"/"+parent+"."+pt.Suffix] = []byte(`<?xml version="1.0" encoding="UTF-8"?><` + pt.Name + ` xmlns="http://soap.sforce.com/2006/04/metadata">` + ch.XML + `</` + pt.Name + `>`)
	default:
		files[mdFileName(&metadata.Component{Type: t, Name: ch.FullName})] = []byte(ch.XML)
	}
	res, err := metadata.ReadMetadataFormat(metadata.MemFS(files), metadata.ReadOptions{KeepContent: true})
	if err != nil {
		return nil, err
	}
	c := res.Set.Get(metadata.Key{Type: t.Name, Name: ch.FullName})
	if c == nil {
		return nil, fmt.Errorf("the xml does not describe %s %s", ch.Type, ch.FullName)
	}
	return c, nil
}

// Info is what a client needs to connect to an org, as `sf org display`
// shows it.
type Info struct {
	Name          string `json:"name"`
	Kind          Kind   `json:"kind"`
	OrgID         string `json:"org_id"`
	InstanceURL   string `json:"instance_url"`
	LoginURL      string `json:"login_url"`
	Username      string `json:"username"`
	Password      string `json:"password"`
	SecurityToken string `json:"security_token"`
	ClientID      string `json:"client_id"`
	ClientSecret  string `json:"client_secret"`
	AccessToken   string `json:"access_token"`
	RefreshToken  string `json:"refresh_token"`
	// SFDXAuthURL is what `sf org login sfdx-url` reads:
	// force://<client id>:<client secret>:<refresh token>@<host:port>; the
	// CLI reaches the host over https (so with --tls).
	SFDXAuthURL string `json:"sfdx_auth_url"`
	JWTKeyFile  string `json:"jwt_key_file,omitempty"`
	// CAFile is the certificate authority of the TLS listener (--tls), for
	// clients to trust (NODE_EXTRA_CA_CERTS=<ca_file>).
	CAFile string `json:"ca_file,omitempty"`
}

// Info issues a fresh session and returns the connection details.
func (o *Org) Info() Info {
	tok := o.NewSession()
	o.mu.Lock()
	defer o.mu.Unlock()
	refresh := ""
	for t, g := range o.st.Refresh {
		if g.ClientID == o.st.ClientID && g.Scope == adminScope {
			refresh = t
		}
	}
	if refresh == "" {
		refresh = o.newRefreshLocked(o.st.ClientID, adminScope)
		o.saveLocked()
	}
	return Info{Name: o.Name, Kind: o.st.Kind, OrgID: o.st.ID, InstanceURL: o.BaseURL, LoginURL: o.BaseURL, Username: o.st.Username,
		Password: o.st.Password, SecurityToken: o.st.SecurityToken, ClientID: o.st.ClientID, ClientSecret: o.st.ClientSecret,
		AccessToken: tok, RefreshToken: refresh, SFDXAuthURL: "force://" + o.st.ClientID + ":" + o.st.ClientSecret + ":" + refresh + "@" + strings.TrimPrefix(strings.TrimPrefix(o.BaseURL, "https://"), "http://"),
		JWTKeyFile: o.KeyFile(), CAFile: o.sim.caFile}
}

var _ = json.Marshal

// adminScope is the scope of the refresh token the simulator lists for
// its admin user.
const adminScope = "api web full refresh_token id"

// DeployCount is how many deploys (check-only ones included) the org has
// taken, for tests that must see one deploy and never two.
func (o *Org) DeployCount(checkOnly bool) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, j := range o.deploys {
		if j.opts.CheckOnly == checkOnly {
			n++
		}
	}
	return n
}
