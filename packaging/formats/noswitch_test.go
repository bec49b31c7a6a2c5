package formats_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/omnipack/omnipack/packaging/formats"
)

// TestNoSwitchOnFormatNames keeps every stage asking the registry: outside
// the format folders and the registry, no Go code compares a format with a
// format's name (a case clause, ==, != or a map key on a format), and
// install.sh's own code has no case on one; its per-format parts are
// rendered from the plug-ins.
func TestNoSwitchOnFormatNames(t *testing.T) {
	names := formats.Names()
	isName := func(e ast.Expr) bool {
		lit, ok := e.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return false
		}
		s, err := strconv.Unquote(lit.Value)
		return err == nil && slices.Contains(names, s)
	}
	// aboutFormat: an expression whose name says it holds a format.
	aboutFormat := func(e ast.Expr) bool {
		var name string
		switch x := e.(type) {
		case *ast.Ident:
			name = x.Name
		case *ast.SelectorExpr:
			name = x.Sel.Name
		case *ast.IndexExpr:
			if id, ok := x.X.(*ast.Ident); ok {
				name = id.Name
			}
		default:
			return false
		}
		return strings.Contains(strings.ToLower(name), "format")
	}
	root := filepath.Join("..", "..")
	var found []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "examples" || isFormatDir(rel, names) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.SwitchStmt:
				if x.Tag == nil || !aboutFormat(x.Tag) {
					return true
				}
				for _, c := range x.Body.List {
					for _, e := range c.(*ast.CaseClause).List {
						if isName(e) {
							found = append(found, fset.Position(e.Pos()).String()+": case on a format name")
						}
					}
				}
			case *ast.BinaryExpr:
				if (x.Op == token.EQL || x.Op == token.NEQ) &&
					(isName(x.X) && aboutFormat(x.Y) || isName(x.Y) && aboutFormat(x.X)) {
					found = append(found, fset.Position(x.Pos()).String()+": comparison with a format name")
				}
			case *ast.KeyValueExpr:
				if isName(x.Key) {
					found = append(found, fset.Position(x.Pos()).String()+": a map keyed by format name")
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// install.sh's hand-written code: a case pattern or a test naming a
	// format.
	main, err := os.ReadFile(filepath.Join(root, "scripts", "installer", "install-main.sh"))
	if err != nil {
		t.Fatal(err)
	}
	alt := strings.Join(names, "|")
	pattern := regexp.MustCompile(`^\s*(` + alt + `)(\s*\||\))|= "?(` + alt + `)"?\s*\]`)
	for i, line := range strings.Split(string(main), "\n") {
		if code, _, _ := strings.Cut(line, "#"); pattern.MatchString(code) {
			found = append(found, "install-main.sh:"+strconv.Itoa(i+1)+": "+strings.TrimSpace(line))
		}
	}
	if len(found) > 0 {
		t.Errorf("code outside the format plug-ins switches on format names; ask packaging/formats instead:\n%s", strings.Join(found, "\n"))
	}
}

// isFormatDir reports whether rel (slash or OS separated, from the
// repository root) is the registry or a format's own folder.
func isFormatDir(rel string, names []string) bool {
	rel = filepath.ToSlash(rel)
	if rel == "packaging/formats" {
		return true
	}
	dir, name, ok := strings.Cut(rel, "/")
	return ok && dir == "packaging" && slices.Contains(names, name)
}
