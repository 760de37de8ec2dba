// Reading requests: path parameters, JSON bodies, optional ids, lists typed
// into text areas.

package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/web"
)

func splitLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// patchOrgSetting reads one of an org's settings, lays the JSON body over
// it (fields left out keep their values), and saves it.
func patchOrgSetting[T any](s *Server, w http.ResponseWriter, r *http.Request, get func(context.Context, int64) (T, error),
	save func(context.Context, T) (T, error), setOrg func(*T, int64)) {
	o, ok := s.orgFromPath(w, r)
	if !ok {
		return
	}
	p, err := get(r.Context(), o.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := decodeJSON(r, &p); err != nil {
		s.fail(w, r, err)
		return
	}
	setOrg(&p, o.ID)
	if p, err = save(r.Context(), p); err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, p)
}

// pathID reads the {id} URL parameter.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, alm.Errorf(alm.CodeNotFound, "There is nothing at %s.", r.URL.Path)
	}
	return id, nil
}

func splitNames(v string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// opt is a JSON field that may be absent, null or a value; PATCH bodies
// use it to tell "leave alone" from "clear".
type opt[T any] struct {
	Set   bool
	Value T
}

func (o *opt[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	return json.Unmarshal(b, &o.Value)
}

// decodeJSON reads a JSON object into v, refusing unknown fields and
// trailing data, with an error that says where the problem is.
func decodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return alm.Errorf(alm.CodeInvalid, "Send the body as application/json.")
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if !utf8.Valid(body) {
		return alm.Errorf(alm.CodeBadRequest, "The body is not valid UTF-8: send JSON encoded as UTF-8.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return alm.Errorf(alm.CodeInvalid, "The body is empty; send a JSON object.")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return alm.Errorf(alm.CodeInvalid, "The body is not valid JSON (it ends too early).")
		case errors.As(err, &syn):
			return alm.Errorf(alm.CodeInvalid, "The body is not valid JSON (at byte %d).", syn.Offset)
		case errors.As(err, &typ):
			return alm.Invalid(map[string]string{typ.Field: fmt.Sprintf("Expected %s.", typ.Type)})
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return alm.Invalid(map[string]string{f: "This field is not known here."})
		}
		return alm.Errorf(alm.CodeInvalid, "The body could not be read as JSON.")
	}
	if dec.More() {
		return alm.Errorf(alm.CodeInvalid, "Send one JSON object.")
	}
	// JSON may spell a NUL as an escape; no text Trellis keeps can hold
	// one. Map keys are looked up, not kept (a build conflict's key holds
	// one on purpose), so only values are checked.
	if hasNUL(reflect.ValueOf(v)) {
		return alm.Errorf(alm.CodeBadRequest, "The body has a NUL character (\\u0000) in a string: remove it and try again.")
	}
	return nil
}

// hasNUL reports whether a decoded value holds a string with a NUL byte.
func hasNUL(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String:
		return strings.IndexByte(v.String(), 0) >= 0
	case reflect.Pointer, reflect.Interface:
		return !v.IsNil() && hasNUL(v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && hasNUL(v.Field(i)) {
				return true
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if hasNUL(v.Index(i)) {
				return true
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if hasNUL(it.Value()) {
				return true
			}
		}
	}
	return false
}

// revision is the revision a PATCH was made against: the body's value or
// an If-Match header.
func revision(r *http.Request, body *int, field string) (int, error) {
	if body != nil {
		return *body, nil
	}
	if im := strings.Trim(strings.TrimPrefix(r.Header.Get("If-Match"), "W/"), `"`); im != "" {
		if n, err := strconv.Atoi(im); err == nil {
			return n, nil
		}
	}
	return 0, alm.Invalid(map[string]string{field: "Send the " + field + " you read (or an If-Match header), so that a concurrent edit is not overwritten."})
}

// optID parses an optional id form or query value: empty is nil.
func optID(v, field string) (*int64, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return nil, alm.Invalid(map[string]string{field: "That is not an id."})
	}
	return &id, nil
}

// filterForm keeps the filters' values for the filter bar.
func filterForm(q url.Values, keys ...string) web.Form {
	f := emptyForm()
	for _, k := range keys {
		f.Values[k] = q.Get(k)
	}
	return f
}

// cleanQuery drops empty values so links stay short.
func cleanQuery(q url.Values) url.Values {
	out := url.Values{}
	for k, vs := range q {
		for _, v := range vs {
			if v != "" {
				out.Add(k, v)
			}
		}
	}
	return out
}

func idStr(id *int64) string {
	if id == nil {
		return ""
	}
	return strconv.FormatInt(*id, 10)
}

func idParam(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	return id, err == nil
}
