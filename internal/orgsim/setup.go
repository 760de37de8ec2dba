package orgsim

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// The org's own small Setup page: what a person does by hand in a sandbox
// (add a field, change a label, edit an Apex class or a layout), so the
// lifecycle can be walked in a browser. Changes land as ChangeInSetup
// makes them: a new lastModifiedDate and an audit trail row.

var setupPage = template.Must(template.New("setup").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Setup — {{.Name}} (simulated org)</title>
<style>
body{font:14px/1.5 system-ui,sans-serif;margin:0;background:#f3f3f3;color:#181818}
header{background:#032d60;color:#fff;padding:.8rem 1.2rem}header h1{margin:0;font-size:1.1rem}
main{max-width:920px;margin:1rem auto;padding:0 1rem;display:grid;gap:1rem}
section{background:#fff;border:1px solid #ddd;border-radius:8px;padding:1rem}
h2{font-size:1rem;margin:0 0 .6rem}label{display:block;margin:.3rem 0 .1rem;font-weight:600}
input,select,textarea{font:inherit;padding:.35rem;border:1px solid #bbb;border-radius:4px;width:100%;box-sizing:border-box}
button{margin-top:.6rem;background:#0176d3;color:#fff;border:0;border-radius:4px;padding:.45rem .9rem;font:inherit;cursor:pointer}
.ok{background:#e6f4ea;border-color:#9bd3ae}.bad{background:#fdecea;border-color:#f1aaa4}
code{background:#eee;padding:0 .25rem;border-radius:3px}.grid{display:grid;grid-template-columns:1fr 1fr;gap:1rem}
@media (max-width:700px){.grid{grid-template-columns:1fr}}
</style></head><body>
<header><h1>Setup — {{.Name}} <small>(simulated {{.Kind}} org)</small></h1></header>
<main>
{{if .Done}}<section class="ok" role="status">{{.Done}}</section>{{end}}
{{if .Error}}<section class="bad" role="alert">{{.Error}}</section>{{end}}
<section><h2>Sign in as this org's admin</h2>
<p>Username <code>{{.Username}}</code> · password <code>{{.Password}}</code> · login URL <code>{{.LoginURL}}</code></p>
<p>Changes made here are changes "in Setup": they get a new last-modified date and a Setup Audit Trail row, as in a real sandbox.</p>
</section>
<div class="grid">
<section><h2>Add a field</h2><form method="post"><input type="hidden" name="action" value="field">
<label for="f-user">Your name</label><input id="f-user" name="user" value="{{.User}}">
<label for="f-object">Object</label><select id="f-object" name="object">{{range .Objects}}<option>{{.}}</option>{{end}}</select>
<label for="f-name">API name</label><input id="f-name" name="name" placeholder="Tier__c" required>
<label for="f-label">Label</label><input id="f-label" name="label" placeholder="Tier" required>
<label for="f-type">Type</label><select id="f-type" name="type"><option>Text</option><option>Number</option><option>Checkbox</option><option>Date</option></select>
<button type="submit">Save the field</button></form></section>
<section><h2>Change a label</h2><form method="post"><input type="hidden" name="action" value="label">
<label for="l-user">Your name</label><input id="l-user" name="user" value="{{.User}}">
<label for="l-component">Component</label><select id="l-component" name="component">{{range .Labelled}}<option>{{.}}</option>{{end}}</select>
<button type="submit">Change its label</button></form></section>
<section><h2>Edit an Apex class</h2><form method="post"><input type="hidden" name="action" value="apex">
<label for="a-user">Your name</label><input id="a-user" name="user" value="{{.User}}">
<label for="a-name">Class name (new or existing)</label><input id="a-name" name="name" list="classes" required>
<datalist id="classes">{{range .Classes}}<option>{{.}}</option>{{end}}</datalist>
<label for="a-body">Body</label><textarea id="a-body" name="body" rows="8" required>public with sharing class MyClass {
}</textarea>
<button type="submit">Save the class</button></form></section>
<section><h2>Edit a layout</h2><form method="post"><input type="hidden" name="action" value="layout">
<label for="y-user">Your name</label><input id="y-user" name="user" value="{{.User}}">
<label for="y-layout">Layout</label><select id="y-layout" name="layout">{{range .Layouts}}<option>{{.}}</option>{{end}}</select>
<button type="submit">Edit the layout</button></form></section>
</div>
</main></body></html>`))

// setup serves the Setup page and applies its forms.
func (o *Org) setup(w http.ResponseWriter, r *http.Request) {
	data := map[string]any{"User": "Dana Developer"}
	if r.Method == http.MethodPost {
		_ = r.ParseForm()
		f := r.PostForm.Get
		user := strings.TrimSpace(f("user"))
		if user == "" {
			user = "Setup User"
		}
		var ch SetupChange
		switch f("action") {
		case "field":
			name := strings.TrimSpace(f("name"))
			if !strings.HasSuffix(name, "__c") {
				name += "__c"
			}
			typ := f("type")
			extra := map[string]string{"Text": "<length>255</length>", "Number": "<precision>18</precision><scale>0</scale>", "Checkbox": "<defaultValue>false</defaultValue>"}[typ]
			ch = SetupChange{Type: "CustomField", FullName: f("object") + "." + name,
				XML: fmt.Sprintf("<fields><fullName>%s</fullName><label>%s</label><type>%s</type>%s</fields>", name, template.HTMLEscapeString(f("label")), typ, extra)}
		case "label":
			typ, name, _ := strings.Cut(f("component"), " ")
			ch = SetupChange{Type: typ, FullName: name}
		case "apex":
			ch = SetupChange{Type: "ApexClass", FullName: strings.TrimSpace(f("name")), Body: strings.ReplaceAll(f("body"), "\r\n", "\n")}
		case "layout":
			ch = SetupChange{Type: "Layout", FullName: f("layout")}
		}
		ch.User = user
		if err := o.ChangeInSetup(ch); err != nil {
			data["Error"] = "Not saved: " + err.Error()
		} else {
			http.Redirect(w, r, "/setup?done="+url.QueryEscape(fmt.Sprintf("Saved %s %s as %s.", ch.Type, ch.FullName, user))+"&user="+url.QueryEscape(user), http.StatusSeeOther)
			return
		}
		data["User"] = user
	}
	if d := r.URL.Query().Get("done"); d != "" {
		data["Done"] = d
	}
	if u := r.URL.Query().Get("user"); u != "" {
		data["User"] = u
	}
	info := o.Info()
	data["Name"], data["Kind"], data["Username"], data["Password"], data["LoginURL"] = info.Name, info.Kind, info.Username, info.Password, info.LoginURL
	var objects, labelled, classes, layouts []string
	o.mu.Lock()
	for _, c := range o.set.Components() {
		switch c.Type.Name {
		case "CustomObject":
			objects = append(objects, c.Name)
		case "ApexClass":
			classes = append(classes, c.Name)
		case "Layout":
			layouts = append(layouts, c.Name)
		}
		if c.XML != nil && !c.Type.IsChild() && c.Type.Name != "ApexClass" && (c.XML.Child("label") != nil || c.XML.Child("description") != nil) {
			labelled = append(labelled, c.Type.Name+" "+c.Name)
		}
	}
	o.mu.Unlock()
	for _, l := range [][]string{objects, labelled, classes, layouts} {
		sort.Strings(l)
	}
	data["Objects"], data["Labelled"], data["Classes"], data["Layouts"] = objects, labelled, classes, layouts
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = setupPage.Execute(w, data)
}

// apexFiles lays a class body out as a retrieve would return it.
func apexFiles(name, body string, meta []byte) map[string][]byte {
	if meta == nil {
		meta = []byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata"><apiVersion>62.0</apiVersion><status>Active</status></ApexClass>` + "\n")
	}
	return map[string][]byte{"classes/" + name + ".cls": []byte(body), "classes/" + name + ".cls-meta.xml": meta}
}
