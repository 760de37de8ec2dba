package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

const (
	soapEnvNS = "http://schemas.xmlsoap.org/soap/envelope/"
	// MetadataNS is the namespace of every Metadata API element.
	MetadataNS = "http://soap.sforce.com/2006/04/metadata"
)

// soapBody is the inside of <soapenv:Body>, written with the md: prefix.
type soapBody func(w *xmlWriter)

// envelope wraps a Metadata API request with the session header.
func (c *Client) envelope(tok *Token, body soapBody) []byte {
	w := &xmlWriter{}
	w.raw(`<?xml version="1.0" encoding="UTF-8"?>` +
		`<soapenv:Envelope xmlns:soapenv="` + soapEnvNS + `" xmlns:md="` + MetadataNS + `">` +
		`<soapenv:Header><md:SessionHeader>`)
	w.leaf("sessionId", tok.AccessToken)
	w.raw(`</md:SessionHeader><md:CallOptions>`)
	w.leaf("client", c.cfg.ClientName)
	w.raw(`</md:CallOptions></soapenv:Header><soapenv:Body>`)
	body(w)
	w.raw(`</soapenv:Body></soapenv:Envelope>`)
	return w.b.Bytes()
}

// soap calls a Metadata API operation and decodes the element inside the
// response's Body into out.
func (c *Client) soap(ctx context.Context, op string, body soapBody, out any, idempotent bool) error {
	r, err := c.do(ctx, call{
		op: op, method: "POST", path: "/services/Soap/m/" + c.cfg.APIVersion,
		body:  func(tok *Token) ([]byte, error) { return c.envelope(tok, body), nil },
		ctype: "text/xml; charset=UTF-8", accept: "text/xml", soap: true, idempotent: idempotent,
		maxBody: 1 << 30, // retrieve zips: 39 MB compressed at most, base64 on top
	})
	if err != nil {
		return err
	}
	if err := decodeSOAP(r.body, out); err != nil {
		return c.malformed(op, r, err)
	}
	return nil
}

// decodeSOAP finds the first element inside the SOAP Body and decodes it.
func decodeSOAP(data []byte, out any) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	inBody := false
	for {
		t, err := d.Token()
		if err == io.EOF {
			return errors.New("no SOAP Body")
		}
		if err != nil {
			return err
		}
		switch t := t.(type) {
		case xml.Directive:
			return errors.New("a DTD in a SOAP answer")
		case xml.StartElement:
			if !inBody {
				if t.Name.Local == "Body" {
					inBody = true
				} else if t.Name.Local != "Envelope" && t.Name.Local != "Header" {
					if err := d.Skip(); err != nil {
						return err
					}
				}
				continue
			}
			if t.Name.Local == "Fault" {
				return errors.New("a SOAP fault with HTTP 200")
			}
			return d.DecodeElement(out, &t)
		}
	}
}

type fault struct{ code, message string }

// parseFault reads a SOAP fault; the code is faultcode without its prefix.
func parseFault(data []byte) *fault {
	var env struct {
		Body struct {
			Fault *struct {
				Code   string `xml:"faultcode"`
				String string `xml:"faultstring"`
			} `xml:"Fault"`
		} `xml:"Body"`
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	if err := d.Decode(&env); err != nil || env.Body.Fault == nil {
		return nil
	}
	code := env.Body.Fault.Code
	if i := strings.LastIndexByte(code, ':'); i >= 0 {
		code = code[i+1:]
	}
	msg := env.Body.Fault.String
	// faultstring repeats the code: "INVALID_SESSION_ID: Invalid Session…"
	msg = strings.TrimPrefix(msg, code+": ")
	return &fault{code: code, message: msg}
}

// xmlWriter writes md:-prefixed elements with escaped text.
type xmlWriter struct{ b bytes.Buffer }

func (w *xmlWriter) raw(s string) { w.b.WriteString(s) }

func (w *xmlWriter) open(name string)  { w.b.WriteString("<md:" + name + ">") }
func (w *xmlWriter) close(name string) { w.b.WriteString("</md:" + name + ">") }

func (w *xmlWriter) leaf(name, value string) {
	w.open(name)
	_ = xml.EscapeText(&w.b, []byte(value))
	w.close(name)
}

func (w *xmlWriter) bool(name string, v bool) { w.leaf(name, fmt.Sprint(v)) }

// Time is a Salesforce timestamp: SOAP writes 2020-10-28T13:33:29.000Z,
// REST 2021-05-10T04:33:14.000+0000. The zero Time is an absent value.
type Time struct{ time.Time }

var timeLayouts = []string{
	"2006-01-02T15:04:05.000Z0700",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05.000Z07:00",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02",
}

func parseTime(s string) (Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "null" {
		return Time{}, nil
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return Time{t}, nil
		}
	}
	return Time{}, fmt.Errorf("timestamp %q", s)
}

func (t *Time) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	var s string
	if err := d.DecodeElement(&s, &start); err != nil {
		return err
	}
	v, err := parseTime(s)
	*t = v
	return err
}

func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("timestamp %s: %w", b, err)
	}
	v, err := parseTime(s)
	*t = v
	return err
}

func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.UTC().Format("2006-01-02T15:04:05.000Z"))
}

func (t *Time) UnmarshalText(b []byte) error {
	v, err := parseTime(string(b))
	*t = v
	return err
}

func (t Time) MarshalText() ([]byte, error) {
	if t.IsZero() {
		return []byte(""), nil
	}
	return []byte(t.UTC().Format("2006-01-02T15:04:05.000Z")), nil
}
