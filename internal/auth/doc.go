// Package auth signs people in to Trellis and decides who is calling:
// local accounts (argon2id hashes, lockout after repeated failures), OIDC
// single sign-on (authorization code with PKCE, state and nonce checked),
// server-side sessions, API tokens, and CSRF tokens.
//
// Secrets are never stored: sessions and API tokens are random values whose
// SHA-256 hash is what the database keeps.
package auth
