// Package secret encrypts Trellis's secrets at rest (org refresh tokens,
// private keys, git credentials) with AES-256-GCM under one master key, and
// derives purpose-bound subkeys (cookie signing, CSRF) from it with HKDF, so
// one key to back up protects everything.
//
// Ciphertexts name the key that sealed them ("v1.<key id>.<data>"), so a key
// rotation can re-encrypt old values while the old key is still known.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the master key length in bytes.
const KeySize = 32

// Keyring holds the master key and any previous keys still able to open
// older ciphertexts.
type Keyring struct {
	primary []byte
	byID    map[string][]byte
}

// New returns a Keyring that seals with primary and opens with primary or
// any of previous.
func New(primary []byte, previous ...[]byte) (*Keyring, error) {
	if len(primary) != KeySize {
		return nil, fmt.Errorf("the key must be %d bytes, got %d", KeySize, len(primary))
	}
	k := &Keyring{primary: primary, byID: map[string][]byte{keyID(primary): primary}}
	for _, p := range previous {
		if len(p) == KeySize {
			k.byID[keyID(p)] = p
		}
	}
	return k, nil
}

func keyID(key []byte) string {
	sum := sha256.Sum256(append([]byte("trellis key id:"), key...))
	return hex.EncodeToString(sum[:4])
}

// ParseKey decodes a key written as 64 hex digits or as standard or URL-safe
// base64 of 32 bytes (what `openssl rand -base64 32` prints).
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*KeySize {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == KeySize {
			return b, nil
		}
	}
	return nil, fmt.Errorf("want %d random bytes as base64 (openssl rand -base64 32) or 64 hex digits", KeySize)
}

// GenerateKey returns a new random key, base64-encoded.
func GenerateKey() string {
	b := make([]byte, KeySize)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// LoadOrCreateFile reads the key in path, creating it (mode 0600) with a new
// random key when absent. created reports whether it was just made, so the
// caller can warn loudly that it must be backed up.
func LoadOrCreateFile(path string) (key []byte, created bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil {
		key, err := ParseKey(string(b))
		if err != nil {
			return nil, false, fmt.Errorf("key file %s: %w", path, err)
		}
		return key, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("read key file: %w", err)
	}
	// 0711: the server user may need to pass through the data directory
	// (see pgembed); the key file itself is 0600.
	if err := os.MkdirAll(filepath.Dir(path), 0o711); err != nil {
		return nil, false, fmt.Errorf("create key directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if errors.Is(err, os.ErrExist) {
		// Another process made it first; use theirs.
		return LoadOrCreateFile(path)
	}
	if err != nil {
		return nil, false, fmt.Errorf("create key file: %w", err)
	}
	s := GenerateKey()
	if _, err := f.WriteString(s + "\n"); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("write key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, false, fmt.Errorf("write key file: %w", err)
	}
	key, err = ParseKey(s)
	return key, true, err
}

// Seal encrypts plaintext, binding it to context (e.g. "org:42:refresh_token")
// so a ciphertext copied to another record does not open there.
func (k *Keyring) Seal(plaintext []byte, context string) (string, error) {
	aead, err := newAEAD(k.primary)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("nonce: %w", err)
	}
	ct := aead.Seal(nonce, nonce, plaintext, []byte(context))
	return "v1." + keyID(k.primary) + "." + base64.RawURLEncoding.EncodeToString(ct), nil
}

// ErrOpen is returned when a ciphertext cannot be opened: wrong key, wrong
// context, or tampered data. It says nothing more, on purpose.
var ErrOpen = errors.New("the encrypted value cannot be opened with this key (was TRELLIS_SECRET_KEY changed?)")

// Open decrypts a value made by Seal with the same context.
func (k *Keyring) Open(sealed, context string) ([]byte, error) {
	parts := strings.SplitN(sealed, ".", 3)
	if len(parts) != 3 || parts[0] != "v1" {
		return nil, ErrOpen
	}
	key, ok := k.byID[parts[1]]
	if !ok {
		return nil, ErrOpen
	}
	ct, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, ErrOpen
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	if len(ct) < aead.NonceSize() {
		return nil, ErrOpen
	}
	pt, err := aead.Open(nil, ct[:aead.NonceSize()], ct[aead.NonceSize():], []byte(context))
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// NeedsRotation reports whether sealed was made with a key other than the
// primary one.
func (k *Keyring) NeedsRotation(sealed string) bool {
	parts := strings.SplitN(sealed, ".", 3)
	return len(parts) != 3 || parts[1] != keyID(k.primary)
}

// Derive returns a 32-byte subkey for purpose, so that, say, the CSRF key
// and the cookie key are independent of each other and of the master key.
func (k *Keyring) Derive(purpose string) []byte {
	b, err := hkdf.Key(sha256.New, k.primary, nil, "trellis:"+purpose, 32)
	if err != nil {
		panic("hkdf with a fixed length cannot fail: " + err.Error())
	}
	return b
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("cipher: %w", err)
	}
	return cipher.NewGCM(block)
}
