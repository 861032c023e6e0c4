package report

import (
	"reflect"
	"testing"
)

// A source block's key is taken of its data instead of its HTML: a
// change of anything the block shows must change the key, or a page
// would keep its old block.
func TestSourceBlockKey_EveryFieldCounts(t *testing.T) {
	base := func() sourceBlock {
		return sourceBlock{ID: "id", Name: "n", Section: "s", Version: "1", State: "pass",
			Maintainer: personLink{Name: "m", URL: "u"}, Uploaders: []personLink{{Name: "up", URL: "uu"}},
			Binaries: []binaryRow{{Name: "b", State: "st", StateURL: "su", Logs: []logLink{{URL: "lu", Version: "lv"}},
				Version: "bv", LastTest: "lt", LastBy: "lb", LastKind: "lk"}}}
	}
	b := base()
	want := string(b.appendKey(nil))
	n := 0
	// Each leaf field, reached through the first element of each slice.
	var walk func(get func(*sourceBlock) reflect.Value, name string)
	walk = func(get func(*sourceBlock) reflect.Value, name string) {
		v := get(&b)
		switch v.Kind() {
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				walk(func(sb *sourceBlock) reflect.Value { return get(sb).Field(i) }, name+"."+v.Type().Field(i).Name)
			}
			return
		case reflect.Slice:
			walk(func(sb *sourceBlock) reflect.Value { return get(sb).Index(0) }, name+"[0]")
			return
		}
		c := base()
		f := get(&c)
		switch f.Kind() {
		case reflect.String:
			f.SetString(f.String() + "x")
		case reflect.Bool:
			f.SetBool(!f.Bool())
		default:
			t.Fatalf("%s: a field of kind %s that appendKey does not know", name, f.Kind())
		}
		n++
		if string(c.appendKey(nil)) == want {
			t.Errorf("changing %s leaves the block's key as it was", name)
		}
	}
	walk(func(sb *sourceBlock) reflect.Value { return reflect.ValueOf(sb).Elem() }, "sourceBlock")
	if n < 20 {
		t.Fatalf("only %d fields walked", n)
	}
	// A row more or less changes it too.
	c := base()
	c.Binaries = append(c.Binaries, binaryRow{})
	if string(c.appendKey(nil)) == want {
		t.Error("a binary more leaves the key as it was")
	}
}
