package tracker

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
)

// verifyHMAC checks a "sha256=<hex>" signature of body with secret.
func verifyHMAC(secret, header string, body []byte) error {
	if secret == "" {
		return &Error{Code: CodeSignature, Msg: "The connection has no webhook secret."}
	}
	got, ok := strings.CutPrefix(strings.TrimSpace(header), "sha256=")
	if !ok {
		return &Error{Code: CodeSignature, Msg: "The webhook is not signed (no sha256= signature)."}
	}
	want := Sign(secret, body)
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(got)), []byte(want)) != 1 {
		return &Error{Code: CodeSignature, Msg: "The webhook's signature does not match the connection's secret."}
	}
	return nil
}

// Sign is the hex HMAC-SHA256 of body with secret, as trackers sign
// webhooks.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}
