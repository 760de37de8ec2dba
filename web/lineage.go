package web

import (
	"github.com/trellis-alm/trellis/internal/alm"
)

// LineageView is a lineage page: the graph around one record.
type LineageView struct {
	Page    Page
	Title   string
	Intro   string
	Graph   alm.Graph
	Layout  LineageLayout
	BackURL string
}

// LineageLayout places a graph's nodes in columns for drawing.
type LineageLayout struct {
	Width, Height int
	Columns       []LineageCol
	Nodes         []PlacedNode
	Edges         []PlacedEdge
}

// LineageCol is a drawn column's heading and position.
type LineageCol struct {
	Title string
	X     int
}

// PlacedNode is a node with its box.
type PlacedNode struct {
	alm.GraphNode
	X, Y, W, H int
	Root       bool
}

// PlacedEdge is an edge as a path.
type PlacedEdge struct {
	D string
}

const (
	lineageColW = 176
	lineageGap  = 36
	lineageRowH = 46
	lineageRowG = 10
	lineageTop  = 34
)

// LayOut places g's nodes column by column (empty columns dropped), in
// the order they came, and draws each edge as a curve between boxes.
func LayOut(g alm.Graph) LineageLayout {
	var l LineageLayout
	used := map[int]bool{}
	for _, n := range g.Nodes {
		used[n.Column] = true
	}
	colX := map[int]int{}
	for c := range alm.LineageColumns {
		if !used[c] {
			continue
		}
		x := len(l.Columns) * (lineageColW + lineageGap)
		colX[c] = x
		l.Columns = append(l.Columns, LineageCol{Title: alm.LineageColumns[c], X: x})
	}
	rows := map[int]int{}
	at := map[string]PlacedNode{}
	for _, n := range g.Nodes {
		y := lineageTop + rows[n.Column]*(lineageRowH+lineageRowG)
		rows[n.Column]++
		p := PlacedNode{GraphNode: n, X: colX[n.Column], Y: y, W: lineageColW, H: lineageRowH, Root: n.ID == g.Root}
		at[n.ID] = p
		l.Nodes = append(l.Nodes, p)
		if y+lineageRowH > l.Height {
			l.Height = y + lineageRowH
		}
	}
	for _, e := range g.Edges {
		a, ok1 := at[e.From]
		b, ok2 := at[e.To]
		if !ok1 || !ok2 {
			continue
		}
		x1, y1 := a.X+a.W, a.Y+a.H/2
		x2, y2 := b.X, b.Y+b.H/2
		mid := (x1 + x2) / 2
		l.Edges = append(l.Edges, PlacedEdge{D: "M" + itoa(int64(x1)) + " " + itoa(int64(y1)) + " C" + itoa(int64(mid)) + " " + itoa(int64(y1)) + " " + itoa(int64(mid)) + " " + itoa(int64(y2)) + " " + itoa(int64(x2)) + " " + itoa(int64(y2))})
	}
	l.Width = len(l.Columns)*(lineageColW+lineageGap) - lineageGap
	if l.Width < lineageColW {
		l.Width = lineageColW
	}
	l.Height += 8
	return l
}

func lineageColName(c int) string {
	if c >= 0 && c < len(alm.LineageColumns) {
		return alm.LineageColumns[c]
	}
	return ""
}

// nodeDetail is a node's second line, short enough for its box.
func nodeDetail(n alm.GraphNode) string {
	switch {
	case n.Detail != "" && n.Status != "":
		return clip(n.Detail, 12) + " · " + clip(n.Status, 12)
	case n.Status != "":
		return clip(n.Status, 26)
	}
	return clip(n.Detail, 26)
}
