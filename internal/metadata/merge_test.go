package metadata

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

const psHead = `<?xml version="1.0" encoding="UTF-8"?>
<PermissionSet xmlns="http://soap.sforce.com/2006/04/metadata">
`

func fieldPerm(field string, edit bool) string {
	e := "false"
	if edit {
		e = "true"
	}
	return "    <fieldPermissions>\n        <editable>" + e + "</editable>\n        <field>" + field + "</field>\n        <readable>true</readable>\n    </fieldPermissions>\n"
}

func ps(label string, parts ...string) []byte {
	return []byte(psHead + strings.Join(parts, "") + "    <label>" + label + "</label>\n</PermissionSet>\n")
}

const objHead = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CustomObject xmlns=\"http://soap.sforce.com/2006/04/metadata\">\n"
const objTail = "    <label>Thing</label>\n</CustomObject>\n"

func override(action, form, typ string) string {
	return "    <actionOverrides>\n        <actionName>" + action + "</actionName>\n        <formFactor>" + form + "</formFactor>\n        <type>" + typ + "</type>\n    </actionOverrides>\n"
}

func TestMergeXML(t *testing.T) {
	labels := func(ls ...string) []byte {
		s := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<CustomLabels xmlns="http://soap.sforce.com/2006/04/metadata">` + "\n"
		for _, l := range ls {
			name, value, _ := strings.Cut(l, "=")
			s += "    <labels>\n        <fullName>" + name + "</fullName>\n        <language>en_US</language>\n        <protected>false</protected>\n        <shortDescription>" + name + "</shortDescription>\n        <value>" + value + "</value>\n    </labels>\n"
		}
		return []byte(s + "</CustomLabels>\n")
	}
	cases := []struct {
		name               string
		base, ours, theirs []byte
		want               []byte // nil: only conflicts checked
		conflicts          int
		wantIn             []string
	}{
		{"BothAddFieldPermissions",
			ps("Sales", fieldPerm("Account.A__c", true)),
			ps("Sales", fieldPerm("Account.A__c", true), fieldPerm("Account.C__c", false)),
			ps("Sales", fieldPerm("Account.A__c", true), fieldPerm("Account.B__c", true)),
			ps("Sales", fieldPerm("Account.A__c", true), fieldPerm("Account.B__c", true), fieldPerm("Account.C__c", false)), 0, nil},
		{"OneChangesOneAdds",
			ps("Sales", fieldPerm("Account.A__c", true), fieldPerm("Account.B__c", true)),
			ps("Sales", fieldPerm("Account.A__c", false), fieldPerm("Account.B__c", true)),
			ps("Sales Team", fieldPerm("Account.A__c", true), fieldPerm("Account.B__c", true), fieldPerm("Account.D__c", true)),
			ps("Sales Team", fieldPerm("Account.A__c", false), fieldPerm("Account.B__c", true), fieldPerm("Account.D__c", true)), 0, nil},
		{"OneDeletesTheOtherKeeps",
			ps("Sales", fieldPerm("Account.A__c", true), fieldPerm("Account.B__c", true)),
			ps("Sales", fieldPerm("Account.B__c", true)),
			ps("Sales", fieldPerm("Account.A__c", true), fieldPerm("Account.B__c", true)),
			ps("Sales", fieldPerm("Account.B__c", true)), 0, nil},
		{"BothChangeTheSameElement",
			ps("Sales", fieldPerm("Account.A__c", true)),
			ps("Sales", fieldPerm("Account.A__c", false)),
			ps("Sales", strings.Replace(fieldPerm("Account.A__c", true), "<readable>true", "<readable>false", 1)),
			nil, 1, []string{"<<<<<<< ours\n", "=======\n", ">>>>>>> theirs\n", "<field>Account.A__c</field>"}},
		{"DeletedAndChanged",
			ps("Sales", fieldPerm("Account.A__c", true)),
			ps("Sales"),
			ps("Sales", fieldPerm("Account.A__c", false)),
			nil, 1, []string{"<<<<<<< ours\n=======\n    <fieldPermissions>"}},
		{"LabelsByFullName",
			labels("Greeting=Hello", "Farewell=Bye"),
			labels("Greeting=Hi there", "Farewell=Bye"),
			labels("Farewell=Bye", "Greeting=Hello", "Welcome=Welcome!"),
			// Welcome goes where theirs put it: after Greeting.
			labels("Greeting=Hi there", "Welcome=Welcome!", "Farewell=Bye"), 0, nil},
		{"ActionOverridesByActionAndFormFactor",
			[]byte(objHead + override("View", "Large", "Default") + override("View", "Small", "Default") + objTail),
			// ours adds an Edit override before them: positions shift.
			[]byte(objHead + override("Edit", "Large", "Default") + override("View", "Large", "Default") + override("View", "Small", "Default") + objTail),
			[]byte(objHead + override("View", "Large", "Flexipage") + override("View", "Small", "Default") + objTail),
			[]byte(objHead + override("Edit", "Large", "Default") + override("View", "Large", "Flexipage") + override("View", "Small", "Default") + objTail), 0, nil},
		{"SameChangeOnBothSides",
			ps("Sales"), ps("Sales Team"), ps("Sales Team"), ps("Sales Team"), 0, nil},
		{"LeafConflict",
			ps("Sales"), ps("Sales Team"), ps("Sales Org"), nil, 1, []string{"    <label>Sales Team</label>\n=======\n    <label>Sales Org</label>"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := MergeXML(tc.base, tc.ours, tc.theirs)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Conflicts) != tc.conflicts {
				t.Fatalf("conflicts %v, want %d:\n%s", r.Conflicts, tc.conflicts, r.Data)
			}
			if tc.want != nil && string(r.Data) != string(tc.want) {
				t.Errorf("merged:\n%s\nwant:\n%s", r.Data, tc.want)
			}
			for _, w := range tc.wantIn {
				if !strings.Contains(string(r.Data), w) {
					t.Errorf("merged lacks %q:\n%s", w, r.Data)
				}
			}
		})
	}
	if _, err := MergeXML([]byte("public class A {}"), []byte("x"), []byte("y")); !errors.Is(err, ErrNotMergeable) {
		t.Errorf("Apex as XML: %v", err)
	}
}

// BenchmarkMergeProfile2MB merges a 2 MB profile (12,100 field
// permissions) where each side changed 100 permissions and theirs added
// 100 more.
func BenchmarkMergeProfile2MB(b *testing.B) {
	perms := func(edit func(i int) bool, n int) string {
		var s strings.Builder
		for i := range n {
			e := edit(i)
			s.WriteString(fieldPerm(fmt.Sprintf("Object%03d__c.Field_%05d__c", i%300, i), e))
		}
		return s.String()
	}
	head := strings.Replace(psHead, "PermissionSet", "Profile", 1)
	doc := func(body string) []byte { return []byte(head + body + "    <custom>true</custom>\n</Profile>\n") }
	base := doc(perms(func(int) bool { return true }, 12100))
	ours := doc(perms(func(i int) bool { return i%121 != 0 }, 12100))
	theirs := doc(perms(func(i int) bool { return i%121 != 60 }, 12200))
	b.SetBytes(int64(len(base)))
	for b.Loop() {
		r, err := MergeXML(base, ours, theirs)
		if err != nil || len(r.Conflicts) != 0 {
			b.Fatal(err, len(r.Conflicts))
		}
	}
}
