// Benchmark driver for lin_vs_porcupine.sh: checks the shared corpus's
// files with Porcupine and prints the same lines as lincheck, so the two
// tools can be timed on the same files with the same verdict check. The
// script builds it in a temporary folder against a local Porcupine
// checkout (`--porcupine DIR`); no Porcupine code is kept here.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"hash/fnv"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anishathalye/porcupine"
)

type regIn struct {
	op   uint8 // 0 read 1 write 2 cas
	a, b int
}
type regOut struct {
	ok, exists bool
	value      int
	unknown    bool
}

const nilVal = -1000000

var regModel = porcupine.Model{
	Init: func() interface{} { return nilVal },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		st := state.(int)
		in := input.(regIn)
		out := output.(regOut)
		switch in.op {
		case 0:
			return out.unknown || (!out.exists && st == nilVal) || (out.exists && st == out.value), state
		case 1:
			return true, in.a
		default:
			ok := out.unknown || (in.a == st && out.ok) || (in.a != st && !out.ok)
			if in.a == st {
				return ok, in.b
			}
			return ok, st
		}
	},
	Hash: func(state interface{}) uint64 { return uint64(state.(int)) },
}

type kvIn struct {
	op         uint8 // 0 get 1 put 2 append
	key, value string
}
type kvOut struct{ value string }

func fnvStr(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
	}
	return h.Sum64()
}

var kvModel = porcupine.Model{
	PartitionEvent: func(history []porcupine.Event) [][]porcupine.Event {
		m := make(map[string][]porcupine.Event)
		keyOf := make(map[int]string)
		var order []string
		for _, e := range history {
			var k string
			if e.Kind == porcupine.CallEvent {
				k = e.Value.(kvIn).key
				keyOf[e.Id] = k
			} else {
				k = keyOf[e.Id]
			}
			if _, ok := m[k]; !ok {
				order = append(order, k)
			}
			m[k] = append(m[k], e)
		}
		var out [][]porcupine.Event
		for _, k := range order {
			out = append(out, m[k])
		}
		return out
	},
	Init: func() interface{} { return "" },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		in := input.(kvIn)
		st := state.(string)
		switch in.op {
		case 0:
			return output.(kvOut).value == st, state
		case 1:
			return true, in.value
		default:
			return true, st + in.value
		}
	},
	Hash: func(state interface{}) uint64 { return fnvStr(state.(string)) },
}

var kvWholeModel = porcupine.Model{
	Init: func() interface{} { return map[string]string{} },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		in := input.(kvIn)
		st := state.(map[string]string)
		if in.op == 0 {
			return output.(kvOut).value == st[in.key], state
		}
		st2 := make(map[string]string, len(st)+1)
		for k, v := range st {
			st2[k] = v
		}
		if in.op == 1 {
			st2[in.key] = in.value
		} else {
			st2[in.key] = st2[in.key] + in.value
		}
		return true, st2
	},
	Equal: func(a, b interface{}) bool {
		x, y := a.(map[string]string), b.(map[string]string)
		if len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if w, ok := y[k]; !ok || w != v {
				return false
			}
		}
		return true
	},
	Hash: func(state interface{}) uint64 {
		var h uint64
		for k, v := range state.(map[string]string) {
			h ^= fnvStr(k, "\x00", v)
		}
		return h
	},
}

// eachLine calls each with every line of the file at path.
func eachLine(path string, each func(line string)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		each(sc.Text())
	}
	return sc.Err()
}

// events builds a Porcupine history: one open call per process at a time.
type events struct {
	ev   []porcupine.Event
	open map[int]int
	id   int
}

func (e *events) call(proc int, in interface{}) {
	e.ev = append(e.ev, porcupine.Event{ClientId: proc, Kind: porcupine.CallEvent, Value: in, Id: e.id})
	e.open[proc] = e.id
	e.id++
}

// ret closes proc's open call; false when it has none.
func (e *events) ret(proc int, out interface{}) bool {
	mid, ok := e.open[proc]
	if !ok {
		return false
	}
	delete(e.open, proc)
	e.ev = append(e.ev, porcupine.Event{ClientId: proc, Kind: porcupine.ReturnEvent, Value: out, Id: mid})
	return true
}

// closeOpen ends every call still open with the given output.
func (e *events) closeOpen(out interface{}) []porcupine.Event {
	for proc := range e.open {
		e.ret(proc, out)
	}
	return e.ev
}

// parseJepsen reads the etcd register log format.
func parseJepsen(path string) ([]porcupine.Event, error) {
	e := &events{open: map[int]int{}}
	err := eachLine(path, func(line string) {
		fs := strings.Fields(line)
		if len(fs) < 7 {
			return
		}
		proc, err := strconv.Atoi(fs[3])
		if err != nil {
			return
		}
		typ, fn, rest := fs[4], fs[5], fs[6:]
		num := func(s string) int {
			v, _ := strconv.Atoi(strings.Trim(s, "[]"))
			return v
		}
		switch typ {
		case ":invoke":
			var in regIn
			switch fn {
			case ":read":
				in = regIn{op: 0}
			case ":write":
				in = regIn{op: 1, a: num(rest[0])}
			case ":cas":
				in = regIn{op: 2, a: num(rest[0]), b: num(rest[1])}
			}
			e.call(proc, in)
		case ":ok", ":fail":
			var out regOut
			switch {
			case fn == ":read" && typ == ":fail":
				out = regOut{unknown: true}
			case fn == ":read":
				if rest[0] != "nil" {
					out = regOut{exists: true, value: num(rest[0])}
				}
			case fn == ":cas":
				out = regOut{ok: typ == ":ok"}
			}
			e.ret(proc, out)
		}
	})
	return e.closeOpen(regOut{unknown: true}), err
}

func ednField(line, name string) string {
	i := strings.Index(line, name)
	if i < 0 {
		return ""
	}
	s := line[i+len(name):]
	if strings.HasPrefix(s, "\"") {
		j := strings.Index(s[1:], "\"")
		return s[1 : 1+j]
	}
	j := strings.IndexAny(s, ",}")
	return s[:j]
}

// parseKv reads the EDN key-value log format.
func parseKv(path string) ([]porcupine.Event, error) {
	e := &events{open: map[int]int{}}
	err := eachLine(path, func(line string) {
		if strings.TrimSpace(line) == "" {
			return
		}
		proc, _ := strconv.Atoi(ednField(line, ":process "))
		typ := ednField(line, ":type ")
		fn := ednField(line, ":f ")
		key := ednField(line, ":key ")
		val := ednField(line, ":value ")
		if typ == ":invoke" {
			in := kvIn{key: key, value: val}
			switch fn {
			case ":get":
				in.op, in.value = 0, ""
			case ":put":
				in.op = 1
			default:
				in.op = 2
			}
			e.call(proc, in)
		} else if typ == ":ok" {
			out := kvOut{}
			if fn == ":get" {
				out.value = val
			}
			e.ret(proc, out)
		}
	})
	return e.closeOpen(kvOut{}), err
}

func main() {
	noPart := flag.Bool("no-partition", false, "check kv histories as one map")
	jobs := flag.Int("j", 1, "files checked at once")
	stats := flag.Bool("stats", false, "print read and check times to stderr")
	flag.Parse()
	files := flag.Args()
	out := make([]string, len(files))
	bad := int32(0)
	var next int32 = -1
	var wg sync.WaitGroup
	for w := 0; w < *jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(atomic.AddInt32(&next, 1))
				if i >= len(files) {
					return
				}
				path := files[i]
				var ok bool
				start := time.Now()
				var read time.Duration
				if strings.HasSuffix(path, ".log") {
					ev, err := parseJepsen(path)
					if err != nil {
						fmt.Fprintln(os.Stderr, err)
						os.Exit(2)
					}
					read = time.Since(start)
					ok = porcupine.CheckEvents(regModel, ev)
				} else {
					ev, err := parseKv(path)
					if err != nil {
						fmt.Fprintln(os.Stderr, err)
						os.Exit(2)
					}
					read = time.Since(start)
					if *noPart {
						ok = porcupine.CheckEvents(kvWholeModel, ev)
					} else {
						ok = porcupine.CheckEvents(kvModel, ev)
					}
				}
				if *stats {
					fmt.Fprintf(os.Stderr, "porcheck: %s: read %.3f ms, check %.3f ms\n", path,
						float64(read.Microseconds())/1000, float64((time.Since(start)-read).Microseconds())/1000)
				}
				if ok {
					out[i] = path + ": linearizable"
				} else {
					out[i] = path + ": not linearizable"
					atomic.StoreInt32(&bad, 1)
				}
			}
		}()
	}
	wg.Wait()
	for _, l := range out {
		fmt.Println(l)
	}
	if bad != 0 {
		os.Exit(1)
	}
}
