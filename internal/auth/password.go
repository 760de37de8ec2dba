package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode"

	"github.com/trustelem/zxcvbn"
	"golang.org/x/crypto/argon2"
)

// argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes, 1
// lane), about 25 ms here. Hashes record their parameters, so raising these
// later still verifies old hashes and rehashes them at the next sign-in.
type argonParams struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
}

var defaultParams = argonParams{memory: 19 * 1024, time: 2, threads: 1}

// HashPassword returns an encoded argon2id hash of p in the PHC string
// format ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
func HashPassword(p string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	pr := defaultParams
	key := argon2.IDKey([]byte(p), salt, pr.time, pr.memory, pr.threads, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, pr.memory, pr.time, pr.threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

var errBadHash = errors.New("stored password hash is malformed")

// CheckPassword reports whether p matches the encoded hash, in constant time.
// rehash is true when the hash uses weaker parameters than today's.
func CheckPassword(encoded, p string) (ok, rehash bool, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, false, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, false, errBadHash
	}
	var pr argonParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &pr.memory, &pr.time, &pr.threads); err != nil {
		return false, false, errBadHash
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false, false, errBadHash
	}
	got := argon2.IDKey([]byte(p), salt, pr.time, pr.memory, pr.threads, uint32(len(want)))
	ok = subtle.ConstantTimeCompare(got, want) == 1
	rehash = pr.memory < defaultParams.memory || pr.time < defaultParams.time
	return ok, rehash, nil
}

// dummyHash is checked against when the account does not exist, so that a
// wrong email costs as long as a wrong password and timing reveals nothing.
// It is made on first use: hashing at start-up would slow every command.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("trellis-dummy-password")
	return h
})

// RandomPassword returns a password for admin resets: 16 characters from an
// alphabet without look-alikes, about 90 bits.
func RandomPassword() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// strongEnough is the fewest guesses a password may take: zxcvbn's score 3
// ("safely unguessable" against an online attack with throttling, and
// well beyond the common-password lists).
const strongEnough = 1e8

// WeakPassword returns a message when p is among the commonly used or
// breached passwords, or close enough to one (l33t spellings, a year or
// "!" added, keyboard walks, repeats), or built from the user's own email
// and name; "" otherwise. It uses zxcvbn's estimator, whose lists ship in
// the binary: ~47,000 of the most common passwords from breach data, plus
// 100,000 common English words and common names.
func WeakPassword(p string, userInputs ...string) string {
	if len(p) > 128 {
		p = p[:128] // the estimate grows with length; this is plenty
	}
	inputs := []string{"trellis", "salesforce"}
	for _, in := range userInputs {
		in = strings.ToLower(in)
		inputs = append(inputs, in)
		if local, _, ok := strings.Cut(in, "@"); ok {
			inputs = append(inputs, local, strings.Map(func(r rune) rune {
				if r == '.' || r == '_' || r == '-' || r == '+' {
					return -1
				}
				return r
			}, local))
			in = local
		}
		inputs = append(inputs, strings.FieldsFunc(in, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })...)
	}
	r := zxcvbn.PasswordStrength(p, inputs)
	if r.Guesses >= strongEnough {
		return ""
	}
	return fmt.Sprintf("This password is too easy to guess: it is, or is close to, a commonly used or breached password (about %s guesses). A phrase of three or four unrelated words is easy to remember and hard to guess.", guessText(r.Guesses))
}

func guessText(g float64) string {
	switch {
	case g < 1e3:
		return "a few hundred"
	case g < 1e6:
		return fmt.Sprintf("%.0f thousand", g/1e3)
	}
	return fmt.Sprintf("%.0f million", g/1e6)
}
