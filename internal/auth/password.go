package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

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
