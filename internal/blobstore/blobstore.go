// Package blobstore keeps content-addressed blobs (snapshot content, build
// artifacts, data backup chunks) in an S3-compatible object store, for
// installations whose backups outgrow PostgreSQL.
//
// Every object carries the SHA-256 of its bytes in its metadata, written
// with it (the server also checks a Content-MD5 on upload), and a read
// refuses bytes that do not match it: a corrupted or truncated object is an
// error, never content.
package blobstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// ErrNotFound is returned by Get for a key the store does not hold.
var ErrNotFound = errors.New("blob not found")

// ErrCorrupt is returned by Get when an object's bytes do not match the
// checksum stored with it.
var ErrCorrupt = errors.New("blob does not match its checksum")

// Object describes a stored blob in a listing.
type Object struct {
	Key      string
	Size     int64
	Modified time.Time
}

// Settings locate the store. URL is TRELLIS_BLOB_URL (s3://bucket/prefix);
// the rest follow the AWS conventions, read from the environment by
// FromEnv.
type Settings struct {
	URL       string
	Endpoint  string // https://s3.example.com; empty means AWS for Region
	Region    string
	AccessKey string
	SecretKey string
	Session   string
}

// FromEnv reads the usual AWS variables (through getenv) beside the given URL:
// AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL), AWS_REGION (or
// AWS_DEFAULT_REGION), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN. Without keys, the shared credentials file and the
// instance role are tried.
func FromEnv(rawURL string, getenv func(string) string) Settings {
	first := func(names ...string) string {
		for _, n := range names {
			if v := getenv(n); v != "" {
				return v
			}
		}
		return ""
	}
	return Settings{
		URL:       rawURL,
		Endpoint:  first("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
		Region:    first("AWS_REGION", "AWS_DEFAULT_REGION"),
		AccessKey: getenv("AWS_ACCESS_KEY_ID"),
		SecretKey: getenv("AWS_SECRET_ACCESS_KEY"),
		Session:   getenv("AWS_SESSION_TOKEN"),
	}
}

// S3 is a bucket (and a key prefix in it) holding blobs.
type S3 struct {
	c      *minio.Client
	bucket string
	prefix string
}

// Open connects to the store the settings describe. It does not touch the
// network; Check does.
func Open(s Settings) (*S3, error) {
	u, err := url.Parse(s.URL)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return nil, fmt.Errorf("TRELLIS_BLOB_URL must look like s3://bucket/prefix, not %q", s.URL)
	}
	endpoint, secure := "s3.amazonaws.com", true
	if s.Region != "" {
		endpoint = "s3." + s.Region + ".amazonaws.com"
	}
	lookup := minio.BucketLookupAuto
	if s.Endpoint != "" {
		e, err := url.Parse(s.Endpoint)
		if err != nil || e.Host == "" || (e.Scheme != "http" && e.Scheme != "https") {
			return nil, fmt.Errorf("the S3 endpoint must be an http(s) address, not %q", s.Endpoint)
		}
		// Most self-hosted stores answer only path-style requests.
		endpoint, secure, lookup = e.Host, e.Scheme == "https", minio.BucketLookupPath
	}
	var creds *credentials.Credentials
	if s.AccessKey != "" {
		creds = credentials.NewStaticV4(s.AccessKey, s.SecretKey, s.Session)
	} else {
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{}, &credentials.FileAWSCredentials{}, &credentials.IAM{},
		})
	}
	c, err := minio.New(endpoint, &minio.Options{Creds: creds, Secure: secure, Region: s.Region, BucketLookup: lookup})
	if err != nil {
		return nil, fmt.Errorf("object store: %w", err)
	}
	prefix := strings.Trim(u.Path, "/")
	if prefix != "" {
		prefix += "/"
	}
	return &S3{c: c, bucket: u.Host, prefix: prefix}, nil
}

// String names the store without credentials, for logs and pages.
func (s *S3) String() string { return "s3://" + s.bucket + "/" + s.prefix }

// Check confirms the bucket exists and is reachable with the credentials.
func (s *S3) Check(ctx context.Context) error {
	ok, err := s.c.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("object store %s: %w", s, err)
	}
	if !ok {
		return fmt.Errorf("object store: bucket %q does not exist", s.bucket)
	}
	return nil
}

// Sum is the checksum a blob's bytes are stored and verified with.
func Sum(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

const sumMeta = "Sha256"

// Put stores data under key. Writing the same content again is harmless:
// keys are content addresses.
func (s *S3) Put(ctx context.Context, key string, data []byte) error {
	_, err := s.c.PutObject(ctx, s.bucket, s.prefix+key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{
		ContentType:    "application/octet-stream",
		SendContentMd5: true,
		UserMetadata:   map[string]string{sumMeta: Sum(data)},
	})
	if err != nil {
		return fmt.Errorf("store blob %s: %w", key, err)
	}
	return nil
}

// Get returns the bytes stored under key, verified against the checksum
// stored with them.
func (s *S3) Get(ctx context.Context, key string) ([]byte, error) {
	obj, err := s.c.GetObject(ctx, s.bucket, s.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.readErr(key, err)
	}
	defer obj.Close()
	info, err := obj.Stat()
	if err != nil {
		return nil, s.readErr(key, err)
	}
	data, err := io.ReadAll(obj)
	if err != nil {
		return nil, s.readErr(key, err)
	}
	want := info.UserMetadata[sumMeta]
	if want == "" {
		want = info.Metadata.Get("X-Amz-Meta-" + sumMeta)
	}
	if want == "" || Sum(data) != want {
		return nil, fmt.Errorf("blob %s: %w (stored %q, read %d bytes)", key, ErrCorrupt, want, len(data))
	}
	return data, nil
}

func (s *S3) readErr(key string, err error) error {
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
		return fmt.Errorf("blob %s: %w", key, ErrNotFound)
	}
	return fmt.Errorf("read blob %s: %w", key, err)
}

// Delete removes keys; a key already gone is not an error.
func (s *S3) Delete(ctx context.Context, keys ...string) error {
	ch := make(chan minio.ObjectInfo, len(keys))
	for _, k := range keys {
		ch <- minio.ObjectInfo{Key: s.prefix + k}
	}
	close(ch)
	for e := range s.c.RemoveObjects(ctx, s.bucket, ch, minio.RemoveObjectsOptions{}) {
		if e.Err != nil && minio.ToErrorResponse(e.Err).Code != minio.NoSuchKey {
			return fmt.Errorf("delete blob %s: %w", strings.TrimPrefix(e.ObjectName, s.prefix), e.Err)
		}
	}
	return nil
}

// List calls fn with every object whose key starts with prefix, keys
// relative to the store's own prefix.
func (s *S3) List(ctx context.Context, prefix string, fn func(Object) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for o := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + prefix, Recursive: true}) {
		if o.Err != nil {
			return fmt.Errorf("list blobs: %w", o.Err)
		}
		if err := fn(Object{Key: strings.TrimPrefix(o.Key, s.prefix), Size: o.Size, Modified: o.LastModified}); err != nil {
			return err
		}
	}
	return nil
}
