package store

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

// sortKey is one way a list can be ordered: an SQL expression, its
// direction, and the type its cursor value is cast back to. The record's
// number breaks ties in the same direction, so (expr, number) is a total
// order and a cursor can resume after any row.
type sortKey struct {
	expr string
	desc bool
	cast string
}

// cursor is where the previous page stopped: the last row's sort value
// and number.
type cursor struct {
	V string `json:"v"`
	N int    `json:"n"`
}

func encodeCursor(v string, n int) string {
	b, _ := json.Marshal(cursor{V: v, N: n})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		return c, alm.Invalid(map[string]string{"cursor": "That cursor is not one this list gave out; start again without it."})
	}
	return c, nil
}

// where is a small builder for the AND-ed conditions of a filtered list.
type where struct {
	conds []string
	args  []any
}

// add appends a condition; each ? in cond becomes the next $n.
func (w *where) add(cond string, args ...any) {
	for _, a := range args {
		w.args = append(w.args, a)
		cond = strings.Replace(cond, "?", fmt.Sprintf("$%d", len(w.args)), 1)
	}
	w.conds = append(w.conds, cond)
}

// arg adds a value and returns its placeholder.
func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return fmt.Sprintf("$%d", len(w.args))
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return "TRUE"
	}
	return strings.Join(w.conds, " AND ")
}

// page applies sort key k and cursor after to w and returns the ORDER BY
// clause and LIMIT (one more than limit, to know if there is a next page).
func (w *where) page(k sortKey, numberCol, after string, limit int) (string, error) {
	dir, cmp := "ASC", ">"
	if k.desc {
		dir, cmp = "DESC", "<"
	}
	if after != "" {
		c, err := decodeCursor(after)
		if err != nil {
			return "", err
		}
		w.add(fmt.Sprintf("(%s, %s) %s (?::%s, ?)", k.expr, numberCol, cmp, k.cast), c.V, c.N)
	}
	return fmt.Sprintf("ORDER BY %s %s, %s %s LIMIT %s", k.expr, dir, numberCol, dir, w.arg(limit+1)), nil
}

// collectPage reads up to limit+1 rows whose last two columns are the sort
// value and the number, and cuts the page with the cursor after its last
// row.
func collectPage[T any](rows pgx.Rows, limit int, scan func(row pgx.CollectableRow, sortVal *string, number *int) (T, error)) (alm.Page[T], error) {
	var sortVals []string
	var nums []int
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (T, error) {
		var sv string
		var n int
		it, err := scan(row, &sv, &n)
		sortVals, nums = append(sortVals, sv), append(nums, n)
		return it, err
	})
	if err != nil {
		return alm.Page[T]{}, fmt.Errorf("list: %w", err)
	}
	p := alm.Page[T]{Items: items}
	if len(items) > limit {
		p.Items = items[:limit]
		p.Next = encodeCursor(sortVals[limit-1], nums[limit-1])
	}
	if p.Items == nil {
		p.Items = []T{}
	}
	return p, nil
}

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return 50
	case n > 200:
		return 200
	}
	return n
}
