package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/orgs"
	"github.com/trellis-alm/trellis/internal/secret"
	"github.com/trellis-alm/trellis/internal/store"
)

// secretsCmd rotates the key that seals org credentials at rest.
//
// With the key file (no TRELLIS_SECRET_KEY), rotate makes a new key,
// re-seals every credential with it and replaces the file, keeping the
// old key beside it as secret.key.previous. With TRELLIS_SECRET_KEY, set
// the new key there and the old one in TRELLIS_SECRET_KEY_PREVIOUS, then
// run rotate.
func secretsCmd(ctx context.Context, cfg config, args []string, sio stdio) error {
	if _, _, err := sub(args, "secrets", "rotate"); err != nil {
		return err
	}
	log := newLogger(cfg, sio.err)
	var keys *secret.Keyring
	var commit func() error
	if cfg.SecretKey != nil {
		if len(cfg.PreviousKeys) == 0 {
			return usageError{"with TRELLIS_SECRET_KEY, put the new key there and the old one in TRELLIS_SECRET_KEY_PREVIOUS, then run rotate"}
		}
		k, err := secret.New(cfg.SecretKey, cfg.PreviousKeys...)
		if err != nil {
			return err
		}
		keys, commit = k, func() error { return nil }
	} else {
		path := filepath.Join(cfg.DataDir, "secret.key")
		old, _, err := secret.LoadOrCreateFile(path)
		if err != nil {
			return err
		}
		fresh := secret.GenerateKey()
		nk, _ := secret.ParseKey(fresh)
		if keys, err = secret.New(nk, old); err != nil {
			return err
		}
		commit = func() error {
			raw, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if err := os.WriteFile(path+".previous", raw, 0o600); err != nil {
				return fmt.Errorf("keep the old key: %w", err)
			}
			tmp := path + ".new"
			if err := os.WriteFile(tmp, []byte(fresh+"\n"), 0o600); err != nil {
				return fmt.Errorf("write the new key: %w", err)
			}
			return os.Rename(tmp, path)
		}
	}
	return withStore(ctx, cfg, sio, func(ctx context.Context, st *store.Store) error {
		ctx = alm.WithActor(ctx, alm.Actor{Label: "cli:" + currentUser()})
		n, err := orgs.New(st, keys, orgs.Config{Logger: log}).Rotate(ctx)
		if err != nil {
			return fmt.Errorf("re-sealed %d credentials before failing (nothing else changed): %w", n, err)
		}
		if err := commit(); err != nil {
			return err
		}
		if err := st.Audit(ctx, alm.Audit(ctx, "secrets.rotate", "keyring", "", fmt.Sprintf("re-sealed %d org credentials with a new key", n))); err != nil {
			return err
		}
		fmt.Fprintf(sio.out, "re-sealed %d org credentials with the new key\n", n)
		if cfg.SecretKey == nil {
			fmt.Fprintln(sio.out, "the new key is in secret.key (back it up); the old one stays in secret.key.previous until you delete it")
		} else {
			fmt.Fprintln(sio.out, "you can drop TRELLIS_SECRET_KEY_PREVIOUS once every replica runs with the new key")
		}
		return nil
	})
}
