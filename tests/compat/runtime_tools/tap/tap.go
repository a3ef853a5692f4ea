// Package tap is Gantry's stand-in for github.com/mndrix/tap-go, which Debian 12 does not
// package: the part of its API the runtime-tools validation programs call, writing TAP 13.
package tap

import (
	"fmt"
	"io"
	"os"
	"strings"

	yaml "gopkg.in/yaml.v3"
)

type T struct {
	nextTestNumber int
	TODO           bool
	Writer         io.Writer
	autoPlan       bool
}

func New() *T { return &T{nextTestNumber: 1, Writer: os.Stdout} }

func (t *T) printf(f string, a ...interface{}) { fmt.Fprintf(t.Writer, f, a...) }

func (t *T) Header(n int) {
	t.printf("TAP version 13\n")
	if n > 0 {
		t.printf("1..%d\n", n)
	}
}

func (t *T) Ok(ok bool, desc string) {
	s := "ok"
	if !ok {
		s = "not ok"
	}
	d := strings.ReplaceAll(desc, "\n", " ")
	if t.TODO {
		d += " # TODO"
	}
	t.printf("%s %d - %s\n", s, t.nextTestNumber, d)
	t.nextTestNumber++
}

func (t *T) Fail(desc string) { t.Ok(false, desc) }
func (t *T) Pass(desc string) { t.Ok(true, desc) }

func (t *T) Skip(count int, desc string) {
	for i := 0; i < count; i++ {
		t.printf("ok %d # SKIP %s\n", t.nextTestNumber, desc)
		t.nextTestNumber++
	}
}

func (t *T) Todo() *T { n := *t; n.TODO = true; return &n }

func (t *T) Count() int { return t.nextTestNumber - 1 }

func (t *T) AutoPlan() { t.printf("1..%d\n", t.Count()) }

func (t *T) Diagnostic(msg string) {
	for _, l := range strings.Split(msg, "\n") {
		t.printf("# %s\n", l)
	}
}

func (t *T) Diagnosticf(f string, a ...interface{}) { t.Diagnostic(fmt.Sprintf(f, a...)) }

func (t *T) YAML(v interface{}) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	t.printf("  ---\n")
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		t.printf("  %s\n", l)
	}
	t.printf("  ...\n")
	return nil
}
