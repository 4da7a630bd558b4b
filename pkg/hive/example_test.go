package hive_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/envhunt/envhunt/pkg/hive"
	"github.com/envhunt/envhunt/pkg/hive/hivetest"
)

// exampleHive builds a small NTUSER-shaped hive in memory.
func exampleHive() []byte {
	root := &hivetest.Key{Name: "ROOT", Subkeys: []*hivetest.Key{
		{Name: "Environment", Values: []hivetest.Value{
			hivetest.ExpandSZ("Path", `%USERPROFILE%\AppData\Local\Microsoft\WindowsApps;`),
			hivetest.ExpandSZ("TEMP", `%USERPROFILE%\AppData\Local\Temp`),
		}},
		{Name: "Software"},
	}}
	data, err := hivetest.Build(root)
	if err != nil {
		log.Fatal(err)
	}
	return data
}

// Read one value the way a detection pipeline does: open the key by its
// Windows path (case-insensitive) and decode the value by type.
func ExampleHive_OpenKey() {
	h, err := hive.Load("NTUSER.DAT", exampleHive())
	if err != nil {
		log.Fatal(err)
	}
	k, err := h.OpenKey(`environment`)
	if err != nil {
		log.Fatal(err)
	}
	v, err := k.Value("path")
	if errors.Is(err, hive.ErrNotFound) {
		fmt.Println("no user Path")
		return
	}
	d, err := v.Decode()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(k.Path(), v.Name(), v.Type(), d.Text)
	// Output: Environment Path REG_EXPAND_SZ %USERPROFILE%\AppData\Local\Microsoft\WindowsApps;
}

// Walk every key; check Partial afterwards to know whether anything was
// skipped.
func ExampleHive_Walk() {
	h, err := hive.Load("NTUSER.DAT", exampleHive())
	if err != nil {
		log.Fatal(err)
	}
	err = h.Walk(context.Background(), func(k *hive.Key) error {
		fmt.Printf("%q has %d values\n", k.Path(), k.ValueCount())
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("partial:", h.Partial())
	// Output:
	// "" has 0 values
	// "Environment" has 2 values
	// "Software" has 0 values
	// partial: false
}

// Keys is the walk as a range-over-func iterator.
func ExampleHive_Keys() {
	h, err := hive.Load("NTUSER.DAT", exampleHive())
	if err != nil {
		log.Fatal(err)
	}
	for k, err := range h.Keys(context.Background()) {
		if err != nil {
			log.Fatal(err)
		}
		if k.Path() == "Environment" {
			fmt.Println("found", k.Path(), "with", k.ValueCount(), "values")
			break
		}
	}
	// Output: found Environment with 2 values
}
