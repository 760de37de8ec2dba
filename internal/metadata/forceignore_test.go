package metadata

import "testing"

func TestForceIgnore(t *testing.T) {
	ig := ParseIgnore([]byte(`# comment
**/jsconfig.json
**/__tests__/**
force-app/main/default/profiles/
*.log
!keep.log
/rooted.txt
docs/*.md
**/lwc/**/*.test.js
[Bb]ackup*
\#hash
trailing   
`))
	tests := []struct {
		path string
		want bool
	}{
		{"force-app/main/default/lwc/jsconfig.json", true},
		{"force-app/main/default/lwc/x/__tests__/x.test.js", true},
		{"force-app/main/default/lwc/x/x.js", false},
		{"force-app/main/default/profiles/Admin.profile-meta.xml", true},
		{"other/profiles/Admin.profile-meta.xml", false},
		{"a/b/debug.log", true},
		{"a/b/keep.log", false},
		{"rooted.txt", true},
		{"sub/rooted.txt", false},
		{"docs/readme.md", true},
		{"docs/sub/readme.md", false},
		{"force-app/lwc/cmp/cmp.test.js", true},
		{"Backup1.txt", true},
		{"backup/x.cls", true},
		{"#hash", true},
		{"trailing", true},
		{"force-app/.eslintrc.json", true},
		{"force-app/main/default/classes/X.cls.dup", true},
		{".sf/config.json", true},
		{"force-app/main/default/classes/X.cls", false},
	}
	for _, tt := range tests {
		if got := ig.Ignored(tt.path); got != tt.want {
			t.Errorf("Ignored(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

func TestForceIgnoreCannotReincludeInsideIgnoredDir(t *testing.T) {
	ig := ParseIgnore([]byte("secret/\n!secret/ok.txt\n"))
	if !ig.Ignored("secret/ok.txt") {
		t.Error("a file inside an ignored directory stays ignored (gitignore semantics)")
	}
	ig = ParseIgnore([]byte("logs/*\n!logs/keep.txt\n"))
	if ig.Ignored("logs/keep.txt") || !ig.Ignored("logs/other.txt") {
		t.Error("re-including a file from an ignored pattern (not directory) works")
	}
}
