package alm

import (
	"errors"
	"fmt"
	"strings"
)

// Code classifies an Error so that one place can map it to an HTTP status.
type Code string

// The error codes. Anything without a code is treated as CodeInternal.
const (
	CodeInvalid      Code = "invalid"
	CodeBadRequest   Code = "bad_request" // a request that cannot be read at all (bad bytes, broken encoding)
	CodeTooLarge     Code = "too_large"
	CodeNotFound     Code = "not_found"
	CodeConflict     Code = "conflict"
	CodeForbidden    Code = "forbidden"
	CodeUnauthorized Code = "unauthorized"
	CodeTooMany      Code = "too_many_requests"
	CodeUnavailable  Code = "unavailable"
	CodeInternal     Code = "internal"
)

// Error is an error with a code and a message that is safe to show to the
// user. Fields carries per-field messages for invalid input, keyed by the
// form field or JSON property name.
type Error struct {
	Code    Code
	Message string
	Fields  map[string]string
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	return fmt.Sprintf("%s (%d field errors)", e.Message, len(e.Fields))
}

// Errorf returns an *Error with the code and a formatted, user-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a CodeInvalid error carrying per-field messages.
func Invalid(fields map[string]string) *Error {
	return &Error{Code: CodeInvalid, Message: "Please correct the highlighted fields.", Fields: fields}
}

// ErrorCode returns the code of the first *Error in err's chain, CodeInternal
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the user-safe message of err: the message of the
// first *Error in its chain, or a generic sentence for internal errors so
// that no detail leaks.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Something went wrong on our side. It has been logged; please try again."
}

// FieldErrors returns the per-field messages carried by err, or nil.
func FieldErrors(err error) map[string]string {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// Count says how many of noun, agreeing in number: "1 component",
// "2 components", "3 addresses".
func Count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "s") || strings.HasSuffix(noun, "sh") || strings.HasSuffix(noun, "ch") || strings.HasSuffix(noun, "x") {
		return fmt.Sprintf("%d %ses", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
