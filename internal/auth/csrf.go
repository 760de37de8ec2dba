package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
)

// CSRF issues and checks anti-forgery tokens bound to a per-browser random
// cookie (signed double-submit): a form's token is an HMAC of the cookie
// value, so another site can neither read nor forge it.
type CSRF struct{ key []byte }

// NewCSRF returns a CSRF with a key derived for this purpose only.
func NewCSRF(key []byte) *CSRF { return &CSRF{key: key} }

// NewSeed returns a fresh random value for the CSRF cookie.
func (c *CSRF) NewSeed() string { return randomToken(24) }

// Token returns the form token for the cookie value seed.
func (c *CSRF) Token(seed string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(seed))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Valid reports whether token belongs to seed.
func (c *CSRF) Valid(seed, token string) bool {
	if seed == "" || token == "" {
		return false
	}
	return hmac.Equal([]byte(c.Token(seed)), []byte(token))
}
