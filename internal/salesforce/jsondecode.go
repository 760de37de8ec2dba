package salesforce

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// decodeJSON decodes an org's JSON into out. Orgs (and their docs) quote
// booleans and numbers now and then, and the docs misspell a few fields:
// when the strict decoding fails on a type, or always with lenient, the
// value is assigned field by field, taking "true" for true, "12" for 12,
// and a field's `alias` tag for its name.
func decodeJSON(data []byte, out any) error {
	err := json.Unmarshal(data, out)
	var te *json.UnmarshalTypeError
	if err == nil || !errors.As(err, &te) {
		return err
	}
	return decodeLenient(data, out)
}

func decodeLenient(data []byte, out any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var raw any
	if err := d.Decode(&raw); err != nil {
		return err
	}
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return errors.New("decodeLenient: want a non-nil pointer")
	}
	return assign(v.Elem(), raw, "")
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func assign(v reflect.Value, x any, at string) error {
	if x == nil {
		v.SetZero()
		return nil
	}
	if v.CanAddr() {
		p := v.Addr()
		if p.Type().Implements(jsonUnmarshaler) {
			b, _ := json.Marshal(x)
			return p.Interface().(json.Unmarshaler).UnmarshalJSON(b)
		}
		if p.Type().Implements(textUnmarshaler) {
			s, ok := x.(string)
			if !ok {
				s = fmt.Sprint(x)
			}
			return p.Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s))
		}
	}
	switch v.Kind() {
	case reflect.Pointer:
		n := reflect.New(v.Type().Elem())
		if err := assign(n.Elem(), x, at); err != nil {
			return err
		}
		v.Set(n)
	case reflect.Interface:
		v.Set(reflect.ValueOf(plain(x)))
	case reflect.Struct:
		m, ok := x.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want an object, got %T", at, x)
		}
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			val, ok := m[name]
			if !ok {
				if alias := f.Tag.Get("alias"); alias != "" {
					val, ok = m[alias]
				}
			}
			if !ok {
				continue
			}
			if err := assign(v.Field(i), val, at+"."+name); err != nil {
				return err
			}
		}
	case reflect.Slice:
		arr, ok := x.([]any)
		if !ok {
			return fmt.Errorf("%s: want a list, got %T", at, x)
		}
		s := reflect.MakeSlice(v.Type(), len(arr), len(arr))
		for i, e := range arr {
			if err := assign(s.Index(i), e, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
		v.Set(s)
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("%s: unsupported map", at)
		}
		m, ok := x.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want an object, got %T", at, x)
		}
		out := reflect.MakeMapWithSize(v.Type(), len(m))
		for k, e := range m {
			ev := reflect.New(v.Type().Elem()).Elem()
			if err := assign(ev, e, at+"."+k); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), ev)
		}
		v.Set(out)
	case reflect.Bool:
		switch x := x.(type) {
		case bool:
			v.SetBool(x)
		case string:
			b, err := strconv.ParseBool(strings.TrimSpace(x))
			if err != nil && x != "" {
				return fmt.Errorf("%s: %q is not a boolean", at, x)
			}
			v.SetBool(b)
		default:
			return fmt.Errorf("%s: want a boolean, got %T", at, x)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		s := numText(x)
		if s == "" {
			v.SetInt(0)
			return nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("%s: %q is not a number", at, s)
		}
		v.SetInt(int64(f))
	case reflect.Float32, reflect.Float64:
		s := numText(x)
		if s == "" {
			v.SetFloat(0)
			return nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("%s: %q is not a number", at, s)
		}
		v.SetFloat(f)
	case reflect.String:
		switch x := x.(type) {
		case string:
			v.SetString(x)
		case json.Number:
			v.SetString(x.String())
		case bool:
			v.SetString(strconv.FormatBool(x))
		default:
			return fmt.Errorf("%s: want text, got %T", at, x)
		}
	default:
		return fmt.Errorf("%s: unsupported field kind %s", at, v.Kind())
	}
	return nil
}

func numText(x any) string {
	switch x := x.(type) {
	case json.Number:
		return x.String()
	case string:
		return strings.TrimSpace(x)
	case bool:
		if x {
			return "1"
		}
		return "0"
	}
	return fmt.Sprint(x)
}

// plain turns json.Number back into float64 for untyped values.
func plain(x any) any {
	switch x := x.(type) {
	case json.Number:
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = plain(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = plain(x[k])
		}
	}
	return x
}
