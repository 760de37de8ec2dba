package orgsim

import (
	"crypto/rand"
	"strings"
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newID makes an 18-character Salesforce id: a 3-character key prefix,
// the counter in base 62, and the case-safe suffix.
func newID(prefix string, n int) string {
	var b [12]byte
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = base62[n%62]
		n /= 62
	}
	id := prefix + string(b[:])
	return id + caseSuffix(id)
}

// caseSuffix is the three characters that make a 15-character id
// case-insensitive: one per five characters, a bit per upper-case letter.
func caseSuffix(id15 string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
	var out strings.Builder
	for chunk := 0; chunk < 3; chunk++ {
		v := 0
		for i := 0; i < 5; i++ {
			c := id15[chunk*5+i]
			if c >= 'A' && c <= 'Z' {
				v |= 1 << i
			}
		}
		out.WriteByte(alphabet[v])
	}
	return out.String()
}

// sameID compares ids on their first 15 characters, as Salesforce does.
func sameID(a, b string) bool {
	if len(a) < 15 || len(b) < 15 {
		return a == b
	}
	return a[:15] == b[:15]
}

// secret returns n random URL-safe characters.
func secret(n int) string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._"
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = chars[int(b[i])%len(chars)]
	}
	return string(b)
}
