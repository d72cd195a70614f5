/**
 * Go's text/template exec tests (exec_test.go's execTests) as data: name, template, the data it
 * runs on (a key of DATA in godata.ts), and Go's output or Go's error message. The outputs and
 * messages are Go's own (go1.19's text/template, with go1.22-1.24's changes where they differ:
 * the `call` builtin's messages, range over integers and iterator functions, {{else with}}).
 */
export type Expect = string | { error: string | RegExp };
export type ExecCase = readonly [name: string, input: string, data: string, want: Expect];

export const EXEC_CASES: readonly ExecCase[] = [
  ["empty", "", "nil", ""],
  ["text", "some text", "nil", "some text"],
  [
    "nil action",
    "{{nil}}",
    "nil",
    { error: 'template: nil action:1:2: executing "nil action" at <nil>: nil is not a command' },
  ],
  ["ideal int", "{{typeOf 3}}", "int0", "int"],
  ["ideal float", "{{typeOf 1.0}}", "int0", "float64"],
  ["ideal exp float", "{{typeOf 1e1}}", "int0", "float64"],
  ["ideal complex", "{{typeOf 1i}}", "int0", "complex128"],
  ["ideal int", "{{typeOf 0x7fffffffffffffff}}", "int0", "int"],
  [
    "ideal too big",
    "{{typeOf 0x8000000000000000}}",
    "int0",
    {
      error:
        'template: ideal too big:1:9: executing "ideal too big" at <0x8000000000000000>: 0x8000000000000000 overflows int',
    },
  ],
  [
    "ideal nil without type",
    "{{nil}}",
    "int0",
    {
      error:
        'template: ideal nil without type:1:2: executing "ideal nil without type" at <nil>: nil is not a command',
    },
  ],
  [".X", "-{{.X}}-", "tVal", "-x-"],
  [".U.V", "-{{.U.V}}-", "tVal", "-v-"],
  [
    ".unexported",
    "{{.unexported}}",
    "tVal",
    {
      error:
        'template: .unexported:1:2: executing ".unexported" at <.unexported>: unexported is an unexported field of struct type *template.T',
    },
  ],
  ["map .one", "{{.MSI.one}}", "tVal", "1"],
  ["map .two", "{{.MSI.two}}", "tVal", "2"],
  ["map .NO", "{{.MSI.NO}}", "tVal", "<no value>"],
  ["map .one interface", "{{.MXI.one}}", "tVal", "1"],
  [
    "map .WRONG args",
    "{{.MSI.one 1}}",
    "tVal",
    {
      error:
        'template: map .WRONG args:1:6: executing "map .WRONG args" at <.MSI.one>: one is not a method but has arguments',
    },
  ],
  [
    "map .WRONG type",
    "{{.MII.one}}",
    "tVal",
    {
      error:
        'template: map .WRONG type:1:6: executing "map .WRONG type" at <.MII.one>: can\'t evaluate field one in type map[int]int',
    },
  ],
  ["dot int", "<{{.}}>", "int13", "<13>"],
  ["dot uint", "<{{.}}>", "uint14", "<14>"],
  ["dot float", "<{{.}}>", "float15_1", "<15.1>"],
  ["dot bool", "<{{.}}>", "true", "<true>"],
  ["dot complex", "<{{.}}>", "complex", "<(16.2-17i)>"],
  ["dot string", "<{{.}}>", "hello", "<hello>"],
  ["dot slice", "<{{.}}>", "sliceNeg", "<[-1 -2 -3]>"],
  ["dot map", "<{{.}}>", "mapTwo", "<map[two:22]>"],
  ["dot struct", "<{{.}}>", "anonStruct", "<{7 seven}>"],
  ["$ int", "{{$}}", "int123", "123"],
  ["$.I", "{{$.I}}", "tVal", "17"],
  ["$.U.V", "{{$.U.V}}", "tVal", "v"],
  ["declare in action", "{{$x := $.U.V}}{{$x}}", "tVal", "v"],
  ["simple assignment", "{{$x := 2}}{{$x = 3}}{{$x}}", "tVal", "3"],
  ["nested assignment", "{{$x := 2}}{{if true}}{{$x = 3}}{{end}}{{$x}}", "tVal", "3"],
  [
    "nested assignment changes the last declaration",
    "{{$x := 1}}{{if true}}{{$x := 2}}{{if true}}{{$x = 3}}{{end}}{{end}}{{$x}}",
    "tVal",
    "1",
  ],
  ["V{6666}.String()", "-{{.V0}}-", "tVal", "-<6666>-"],
  ["&V{7777}.String()", "-{{.V1}}-", "tVal", "-<7777>-"],
  ["(*V)(nil).String()", "-{{.V2}}-", "tVal", "-nilV-"],
  ["W{888}.Error()", "-{{.W0}}-", "tVal", "-[888]-"],
  ["&W{999}.Error()", "-{{.W1}}-", "tVal", "-[999]-"],
  ["(*W)(nil).Error()", "-{{.W2}}-", "tVal", "-nilW-"],
  ["*int", "{{.PI}}", "tVal", "23"],
  ["*string", "{{.PS}}", "tVal", "a string"],
  ["*[]int", "{{.PSI}}", "tVal", "[21 22 23]"],
  ["*[]int[1]", "{{index .PSI 1}}", "tVal", "22"],
  ["NIL", "{{.NIL}}", "tVal", "<nil>"],
  ["empty nil", "{{.Empty0}}", "tVal", "<no value>"],
  ["empty with int", "{{.Empty1}}", "tVal", "3"],
  ["empty with string", "{{.Empty2}}", "tVal", "empty2"],
  ["empty with slice", "{{.Empty3}}", "tVal", "[7 8]"],
  ["empty with struct", "{{.Empty4}}", "tVal", "{UinEmpty}"],
  ["empty with struct, field", "{{.Empty4.V}}", "tVal", "UinEmpty"],
  ["field on interface", "{{.foo}}", "nil", "<no value>"],
  ["field on parenthesized interface", "{{(.).foo}}", "nil", "<no value>"],
  [
    "unparenthesized non-function",
    "{{1 2}}",
    "nil",
    {
      error:
        'template: unparenthesized non-function:1:2: executing "unparenthesized non-function" at <1>: can\'t give argument to non-function 1',
    },
  ],
  [
    "parenthesized non-function",
    "{{(1) 2}}",
    "nil",
    {
      error:
        'template: parenthesized non-function:1:2: executing "parenthesized non-function" at <(1) 2>: can\'t give argument to non-function 1',
    },
  ],
  ["parenthesized non-function with no args", "{{(1)}}", "nil", "1"],
  [".Method0", "-{{.Method0}}-", "tVal", "-M0-"],
  [".Method1(1234)", "-{{.Method1 1234}}-", "tVal", "-1234-"],
  [".Method1(.I)", "-{{.Method1 .I}}-", "tVal", "-17-"],
  [".Method2(3, .X)", "-{{.Method2 3 .X}}-", "tVal", "-Method2: 3 x-"],
  [".Method2(.U16, `str`)", "-{{.Method2 .U16 `str`}}-", "tVal", "-Method2: 16 str-"],
  [".Method2(.U16, $x)", "{{if $x := .X}}-{{.Method2 .U16 $x}}{{end}}-", "tVal", "-Method2: 16 x-"],
  [".Method3(nil constant)", "-{{.Method3 nil}}-", "tVal", "-Method3: <nil>-"],
  [".Method3(nil value)", "-{{.Method3 .MXI.unset}}-", "tVal", "-Method3: <nil>-"],
  ["method on var", "{{if $x := .}}-{{$x.Method2 .U16 $x.X}}{{end}}-", "tVal", "-Method2: 16 x-"],
  [
    "method on chained var",
    "{{range .MSIone}}{{if $.U.TrueFalse $.True}}{{$.U.TrueFalse $.True}}{{else}}WRONG{{end}}{{end}}",
    "tVal",
    "true",
  ],
  [
    "chained method",
    "{{range .MSIone}}{{if $.GetU.TrueFalse $.True}}{{$.U.TrueFalse $.True}}{{else}}WRONG{{end}}{{end}}",
    "tVal",
    "true",
  ],
  [
    "chained method on variable",
    "{{with $x := .}}{{with .SI}}{{$.GetU.TrueFalse $.True}}{{end}}{{end}}",
    "tVal",
    "true",
  ],
  [".NilOKFunc not nil", "{{call .NilOKFunc .PI}}", "tVal", "false"],
  [".NilOKFunc nil", "{{call .NilOKFunc nil}}", "tVal", "true"],
  ["method on nil value from slice", "-{{range .}}{{.Method1 1234}}{{end}}-", "tSliceOfNil", "-1234-"],
  ["method on typed nil interface value", "{{.NonEmptyInterfaceTypedNil.Method0}}", "tVal", "M0"],
  [".BinaryFunc", "{{call .BinaryFunc `1` `2`}}", "tVal", "[1=2]"],
  [".VariadicFunc0", "{{call .VariadicFunc}}", "tVal", "<>"],
  [".VariadicFunc2", "{{call .VariadicFunc `he` `llo`}}", "tVal", "<he+llo>"],
  [".VariadicFuncInt", "{{call .VariadicFuncInt 33 `he` `llo`}}", "tVal", "33=<he+llo>"],
  ["if .BinaryFunc call", "{{ if .BinaryFunc}}{{call .BinaryFunc `1` `2`}}{{end}}", "tVal", "[1=2]"],
  [
    "if not .BinaryFunc call",
    "{{ if not .BinaryFunc}}{{call .BinaryFunc `1` `2`}}{{else}}No{{end}}",
    "tVal",
    "No",
  ],
  ["Interface Call", "{{stringer .S}}", "stringerMap", "foozle"],
  [".ErrFunc", "{{call .ErrFunc}}", "tVal", "bla"],
  [
    "call nil",
    "{{call nil}}",
    "tVal",
    { error: 'template: call nil:1:2: executing "call nil" at <call nil>: error calling call: call of nil' },
  ],
  [
    ".BinaryFuncTooFew",
    "{{call .BinaryFunc `1`}}",
    "tVal",
    {
      error:
        'template: .BinaryFuncTooFew:1:2: executing ".BinaryFuncTooFew" at <call .BinaryFunc `1`>: error calling call: wrong number of args for .BinaryFunc: got 1 want 2',
    },
  ],
  [
    ".BinaryFuncTooMany",
    "{{call .BinaryFunc `1` `2` `3`}}",
    "tVal",
    {
      error:
        'template: .BinaryFuncTooMany:1:2: executing ".BinaryFuncTooMany" at <call .BinaryFunc `1` `2` `3`>: error calling call: wrong number of args for .BinaryFunc: got 3 want 2',
    },
  ],
  [
    ".BinaryFuncBad0",
    "{{call .BinaryFunc 1 3}}",
    "tVal",
    {
      error:
        'template: .BinaryFuncBad0:1:2: executing ".BinaryFuncBad0" at <call .BinaryFunc 1 3>: error calling call: arg 0: value has type int; should be string',
    },
  ],
  [
    ".BinaryFuncBad1",
    "{{call .BinaryFunc `1` 3}}",
    "tVal",
    {
      error:
        'template: .BinaryFuncBad1:1:2: executing ".BinaryFuncBad1" at <call .BinaryFunc `1` 3>: error calling call: arg 1: value has type int; should be string',
    },
  ],
  [
    ".VariadicFuncBad0",
    "{{call .VariadicFunc 3}}",
    "tVal",
    {
      error:
        'template: .VariadicFuncBad0:1:2: executing ".VariadicFuncBad0" at <call .VariadicFunc 3>: error calling call: arg 0: value has type int; should be string',
    },
  ],
  [
    ".VariadicFuncIntBad0",
    "{{call .VariadicFuncInt}}",
    "tVal",
    {
      error:
        'template: .VariadicFuncIntBad0:1:2: executing ".VariadicFuncIntBad0" at <call .VariadicFuncInt>: error calling call: wrong number of args for .VariadicFuncInt: got 0 want at least 1',
    },
  ],
  [
    ".VariadicFuncIntBad`",
    "{{call .VariadicFuncInt `x`}}",
    "tVal",
    {
      error:
        'template: .VariadicFuncIntBad`:1:2: executing ".VariadicFuncIntBad`" at <call .VariadicFuncInt `x`>: error calling call: arg 0: value has type string; should be int',
    },
  ],
  [
    ".VariadicFuncNilBad",
    "{{call .VariadicFunc nil}}",
    "tVal",
    {
      error:
        'template: .VariadicFuncNilBad:1:2: executing ".VariadicFuncNilBad" at <call .VariadicFunc nil>: error calling call: arg 0: value is nil; should be of type string',
    },
  ],
  ["pipeline", "-{{.Method0 | .Method2 .U16}}-", "tVal", "-Method2: 16 M0-"],
  ["pipeline func", "-{{call .VariadicFunc `llo` | call .VariadicFunc `he` }}-", "tVal", "-<he+<llo>>-"],
  ["nil pipeline", "{{ .Empty0 | call .NilOKFunc }}", "tVal", "true"],
  ["nil call arg", "{{ call .NilOKFunc .Empty0 }}", "tVal", "true"],
  [
    "bad nil pipeline",
    "{{ .Empty0 | .VariadicFunc }}",
    "tVal",
    {
      error:
        'template: bad nil pipeline:1:13: executing "bad nil pipeline" at <.VariadicFunc>: VariadicFunc has arguments but cannot be invoked as function',
    },
  ],
  ["parens in pipeline", "{{printf `%d %d %d` (1) (2 | add 3) (add 4 (add 5 6))}}", "tVal", "1 5 15"],
  ["parens: $ in paren", "{{($).X}}", "tVal", "x"],
  ["parens: $.GetU in paren", "{{($.GetU).V}}", "tVal", "v"],
  ["parens: $ in paren in pipe", "{{($ | echo).X}}", "tVal", "x"],
  ["parens: spaces and args", '{{(makemap "up" "down" "left" "right").left}}', "tVal", "right"],
  ["if true", "{{if true}}TRUE{{end}}", "tVal", "TRUE"],
  ["if false", "{{if false}}TRUE{{else}}FALSE{{end}}", "tVal", "FALSE"],
  [
    "if nil",
    "{{if nil}}TRUE{{end}}",
    "tVal",
    { error: 'template: if nil:1:5: executing "if nil" at <nil>: nil is not a command' },
  ],
  ["if on typed nil interface value", "{{if .NonEmptyInterfaceTypedNil}}TRUE{{ end }}", "tVal", ""],
  ["if 1", "{{if 1}}NON-ZERO{{else}}ZERO{{end}}", "tVal", "NON-ZERO"],
  ["if 0", "{{if 0}}NON-ZERO{{else}}ZERO{{end}}", "tVal", "ZERO"],
  ["if 1.5", "{{if 1.5}}NON-ZERO{{else}}ZERO{{end}}", "tVal", "NON-ZERO"],
  ["if 0.0", "{{if .FloatZero}}NON-ZERO{{else}}ZERO{{end}}", "tVal", "ZERO"],
  ["if 1.5i", "{{if 1.5i}}NON-ZERO{{else}}ZERO{{end}}", "tVal", "NON-ZERO"],
  ["if 0.0i", "{{if .ComplexZero}}NON-ZERO{{else}}ZERO{{end}}", "tVal", "ZERO"],
  ["if emptystring", "{{if ``}}NON-EMPTY{{else}}EMPTY{{end}}", "tVal", "EMPTY"],
  ["if string", "{{if `notempty`}}NON-EMPTY{{else}}EMPTY{{end}}", "tVal", "NON-EMPTY"],
  ["if emptyslice", "{{if .SIEmpty}}NON-EMPTY{{else}}EMPTY{{end}}", "tVal", "EMPTY"],
  ["if slice", "{{if .SI}}NON-EMPTY{{else}}EMPTY{{end}}", "tVal", "NON-EMPTY"],
  ["if emptymap", "{{if .MSIEmpty}}NON-EMPTY{{else}}EMPTY{{end}}", "tVal", "EMPTY"],
  ["if map", "{{if .MSI}}NON-EMPTY{{else}}EMPTY{{end}}", "tVal", "NON-EMPTY"],
  ["if map unset", "{{if .MXI.none}}NON-ZERO{{else}}ZERO{{end}}", "tVal", "ZERO"],
  ["if map not unset", "{{if not .MXI.none}}ZERO{{else}}NON-ZERO{{end}}", "tVal", "ZERO"],
  ["if $x with $y int", "{{if $x := true}}{{with $y := .I}}{{$x}},{{$y}}{{end}}{{end}}", "tVal", "true,17"],
  ["if $x with $x int", "{{if $x := true}}{{with $x := .I}}{{$x}},{{end}}{{$x}}{{end}}", "tVal", "17,true"],
  ["if else if", "{{if false}}FALSE{{else if true}}TRUE{{end}}", "tVal", "TRUE"],
  ["if else chain", "{{if eq 1 3}}1{{else if eq 2 3}}2{{else if eq 3 3}}3{{end}}", "tVal", "3"],
  ["print", '{{print "hello, print"}}', "tVal", "hello, print"],
  ["print 123", "{{print 1 2 3}}", "tVal", "1 2 3"],
  ["print nil", "{{print nil}}", "tVal", "<nil>"],
  ["println", "{{println 1 2 3}}", "tVal", "1 2 3\n"],
  ["printf int", '{{printf "%04x" 127}}', "tVal", "007f"],
  ["printf float", '{{printf "%g" 3.5}}', "tVal", "3.5"],
  ["printf complex", '{{printf "%g" 1+7i}}', "tVal", "(1+7i)"],
  ["printf string", '{{printf "%s" "hello"}}', "tVal", "hello"],
  ["printf function", '{{printf "%#q" zeroArgs}}', "tVal", "`zeroArgs`"],
  ["printf field", '{{printf "%s" .U.V}}', "tVal", "v"],
  ["printf method", '{{printf "%s" .Method0}}', "tVal", "M0"],
  ["printf dot", '{{with .I}}{{printf "%d" .}}{{end}}', "tVal", "17"],
  ["printf var", '{{with $x := .I}}{{printf "%d" $x}}{{end}}', "tVal", "17"],
  ["printf lots", '{{printf "%d %s %g %s" 127 "hello" 7-3i .Method0}}', "tVal", "127 hello (7-3i) M0"],
  [
    "html",
    '{{html "<script>alert(\\"XSS\\");</script>"}}',
    "nil",
    "&lt;script&gt;alert(&#34;XSS&#34;);&lt;/script&gt;",
  ],
  [
    "html pipeline",
    '{{printf "<script>alert(\\"XSS\\");</script>" | html}}',
    "nil",
    "&lt;script&gt;alert(&#34;XSS&#34;);&lt;/script&gt;",
  ],
  ["html", "{{html .PS}}", "tVal", "a string"],
  ["html typed nil", "{{html .NIL}}", "tVal", "&lt;nil&gt;"],
  ["html untyped nil", "{{html .Empty0}}", "tVal", "&lt;no value&gt;"],
  ["js", "{{js .}}", "itdBeNice", "It\\'d be nice."],
  ["urlquery", '{{"http://www.example.org/"|urlquery}}', "nil", "http%3A%2F%2Fwww.example.org%2F"],
  ["not", "{{not true}} {{not false}}", "nil", "false true"],
  ["and", "{{and false 0}} {{and 1 0}} {{and 0 true}} {{and 1 1}}", "nil", "false 0 0 1"],
  ["or", "{{or 0 0}} {{or 1 0}} {{or 0 true}} {{or 1 1}}", "nil", "0 1 true 1"],
  ["or short-circuit", "{{or 0 1 (die)}}", "nil", "1"],
  ["and short-circuit", "{{and 1 0 (die)}}", "nil", "0"],
  [
    "or short-circuit2",
    "{{or 0 0 (die)}}",
    "nil",
    {
      error:
        'template: or short-circuit2:1:10: executing "or short-circuit2" at <die>: error calling die: die',
    },
  ],
  [
    "and short-circuit2",
    "{{and 1 1 (die)}}",
    "nil",
    {
      error:
        'template: and short-circuit2:1:11: executing "and short-circuit2" at <die>: error calling die: die',
    },
  ],
  ["and pipe-true", "{{1 | and 1}}", "nil", "1"],
  ["and pipe-false", "{{0 | and 1}}", "nil", "0"],
  ["or pipe-true", "{{1 | or 0}}", "nil", "1"],
  ["or pipe-false", "{{0 | or 0}}", "nil", "0"],
  ["and undef", "{{and 1 .Unknown}}", "nil", "<no value>"],
  ["or undef", "{{or 0 .Unknown}}", "nil", "<no value>"],
  ["boolean if", "{{if and true 1 `hi`}}TRUE{{else}}FALSE{{end}}", "tVal", "TRUE"],
  ["boolean if not", "{{if and true 1 `hi` | not}}TRUE{{else}}FALSE{{end}}", "nil", "FALSE"],
  ["boolean if pipe", "{{if true | not | and 1}}TRUE{{else}}FALSE{{end}}", "nil", "FALSE"],
  ["slice[0]", "{{index .SI 0}}", "tVal", "3"],
  ["slice[1]", "{{index .SI 1}}", "tVal", "4"],
  [
    "slice[HUGE]",
    "{{index .SI 10}}",
    "tVal",
    {
      error:
        'template: slice[HUGE]:1:2: executing "slice[HUGE]" at <index .SI 10>: error calling index: index out of range: 10',
    },
  ],
  [
    "slice[WRONG]",
    "{{index .SI `hello`}}",
    "tVal",
    {
      error:
        'template: slice[WRONG]:1:2: executing "slice[WRONG]" at <index .SI `hello`>: error calling index: cannot index slice/array with type string',
    },
  ],
  [
    "slice[nil]",
    "{{index .SI nil}}",
    "tVal",
    {
      error:
        'template: slice[nil]:1:2: executing "slice[nil]" at <index .SI nil>: error calling index: cannot index slice/array with nil',
    },
  ],
  ["map[one]", "{{index .MSI `one`}}", "tVal", "1"],
  ["map[two]", "{{index .MSI `two`}}", "tVal", "2"],
  ["map[NO]", "{{index .MSI `XXX`}}", "tVal", "0"],
  [
    "map[nil]",
    "{{index .MSI nil}}",
    "tVal",
    {
      error:
        'template: map[nil]:1:2: executing "map[nil]" at <index .MSI nil>: error calling index: value is nil; should be of type string',
    },
  ],
  ["map[``]", "{{index .MSI ``}}", "tVal", "0"],
  [
    "map[WRONG]",
    "{{index .MSI 10}}",
    "tVal",
    {
      error:
        'template: map[WRONG]:1:2: executing "map[WRONG]" at <index .MSI 10>: error calling index: value has type int; should be string',
    },
  ],
  ["double index", "{{index .SMSI 1 `eleven`}}", "tVal", "11"],
  [
    "nil[1]",
    "{{index nil 1}}",
    "tVal",
    {
      error:
        'template: nil[1]:1:2: executing "nil[1]" at <index nil 1>: error calling index: index of untyped nil',
    },
  ],
  ["map MI64S", "{{index .MI64S 2}}", "tVal", "i642"],
  ["map MI32S", "{{index .MI32S 2}}", "tVal", "two"],
  ["map MUI64S", "{{index .MUI64S 3}}", "tVal", "ui643"],
  ["map MI8S", "{{index .MI8S 3}}", "tVal", "i83"],
  ["map MUI8S", "{{index .MUI8S 2}}", "tVal", "u82"],
  ["index of an interface field", "{{index .Empty3 0}}", "tVal", "7"],
  ["slice[:]", "{{slice .SI}}", "tVal", "[3 4 5]"],
  ["slice[1:]", "{{slice .SI 1}}", "tVal", "[4 5]"],
  ["slice[1:2]", "{{slice .SI 1 2}}", "tVal", "[4]"],
  [
    "slice[-1:]",
    "{{slice .SI -1}}",
    "tVal",
    {
      error:
        'template: slice[-1:]:1:2: executing "slice[-1:]" at <slice .SI -1>: error calling slice: index out of range: -1',
    },
  ],
  [
    "slice[1:-2]",
    "{{slice .SI 1 -2}}",
    "tVal",
    {
      error:
        'template: slice[1:-2]:1:2: executing "slice[1:-2]" at <slice .SI 1 -2>: error calling slice: index out of range: -2',
    },
  ],
  [
    "slice[1:2:-1]",
    "{{slice .SI 1 2 -1}}",
    "tVal",
    {
      error:
        'template: slice[1:2:-1]:1:2: executing "slice[1:2:-1]" at <slice .SI 1 2 -1>: error calling slice: index out of range: -1',
    },
  ],
  [
    "slice[2:1]",
    "{{slice .SI 2 1}}",
    "tVal",
    {
      error:
        'template: slice[2:1]:1:2: executing "slice[2:1]" at <slice .SI 2 1>: error calling slice: invalid slice index: 2 > 1',
    },
  ],
  [
    "slice[2:2:1]",
    "{{slice .SI 2 2 1}}",
    "tVal",
    {
      error:
        'template: slice[2:2:1]:1:2: executing "slice[2:2:1]" at <slice .SI 2 2 1>: error calling slice: invalid slice index: 2 > 1',
    },
  ],
  [
    "out of range",
    "{{slice .SI 4 5}}",
    "tVal",
    {
      error:
        'template: out of range:1:2: executing "out of range" at <slice .SI 4 5>: error calling slice: index out of range: 4',
    },
  ],
  [
    "out of range",
    "{{slice .SI 2 2 5}}",
    "tVal",
    {
      error:
        'template: out of range:1:2: executing "out of range" at <slice .SI 2 2 5>: error calling slice: index out of range: 5',
    },
  ],
  ["len(s) < indexes < cap(s)", "{{slice .SICap 6 10}}", "tVal", "[0 0 0 0]"],
  ["len(s) < indexes < cap(s)", "{{slice .SICap 6 10 10}}", "tVal", "[0 0 0 0]"],
  [
    "indexes > cap(s)",
    "{{slice .SICap 10 11}}",
    "tVal",
    {
      error:
        'template: indexes > cap(s):1:2: executing "indexes > cap(s)" at <slice .SICap 10 11>: error calling slice: index out of range: 11',
    },
  ],
  [
    "indexes > cap(s)",
    "{{slice .SICap 6 10 11}}",
    "tVal",
    {
      error:
        'template: indexes > cap(s):1:2: executing "indexes > cap(s)" at <slice .SICap 6 10 11>: error calling slice: index out of range: 11',
    },
  ],
  ["array[:]", "{{slice .AI}}", "tVal", "[3 4 5]"],
  ["array[1:]", "{{slice .AI 1}}", "tVal", "[4 5]"],
  ["array[1:2]", "{{slice .AI 1 2}}", "tVal", "[4]"],
  ["string[:]", "{{slice .S}}", "tVal", "xyz"],
  ["string[0:1]", "{{slice .S 0 1}}", "tVal", "x"],
  ["string[1:]", "{{slice .S 1}}", "tVal", "yz"],
  ["string[1:2]", "{{slice .S 1 2}}", "tVal", "y"],
  [
    "out of range",
    "{{slice .S 1 5}}",
    "tVal",
    {
      error:
        'template: out of range:1:2: executing "out of range" at <slice .S 1 5>: error calling slice: index out of range: 5',
    },
  ],
  [
    "3-index slice of string",
    "{{slice .S 1 2 2}}",
    "tVal",
    {
      error:
        'template: 3-index slice of string:1:2: executing "3-index slice of string" at <slice .S 1 2 2>: error calling slice: cannot 3-index slice a string',
    },
  ],
  ["slice of an interface field", "{{slice .Empty3 0 1}}", "tVal", "[7]"],
  ["slice", "{{len .SI}}", "tVal", "3"],
  ["map", "{{len .MSI }}", "tVal", "3"],
  [
    "len of int",
    "{{len 3}}",
    "tVal",
    {
      error:
        'template: len of int:1:2: executing "len of int" at <len 3>: error calling len: len of type int',
    },
  ],
  [
    "len of nothing",
    "{{len .Empty0}}",
    "tVal",
    {
      error:
        'template: len of nothing:1:2: executing "len of nothing" at <len .Empty0>: error calling len: len of nil pointer',
    },
  ],
  ["len of an interface field", "{{len .Empty3}}", "tVal", "2"],
  ["with true", "{{with true}}{{.}}{{end}}", "tVal", "true"],
  ["with false", "{{with false}}{{.}}{{else}}FALSE{{end}}", "tVal", "FALSE"],
  ["with 1", "{{with 1}}{{.}}{{else}}ZERO{{end}}", "tVal", "1"],
  ["with 0", "{{with 0}}{{.}}{{else}}ZERO{{end}}", "tVal", "ZERO"],
  ["with 1.5", "{{with 1.5}}{{.}}{{else}}ZERO{{end}}", "tVal", "1.5"],
  ["with 0.0", "{{with .FloatZero}}{{.}}{{else}}ZERO{{end}}", "tVal", "ZERO"],
  ["with 1.5i", "{{with 1.5i}}{{.}}{{else}}ZERO{{end}}", "tVal", "(0+1.5i)"],
  ["with 0.0i", "{{with .ComplexZero}}{{.}}{{else}}ZERO{{end}}", "tVal", "ZERO"],
  ["with emptystring", "{{with ``}}{{.}}{{else}}EMPTY{{end}}", "tVal", "EMPTY"],
  ["with string", "{{with `notempty`}}{{.}}{{else}}EMPTY{{end}}", "tVal", "notempty"],
  ["with emptyslice", "{{with .SIEmpty}}{{.}}{{else}}EMPTY{{end}}", "tVal", "EMPTY"],
  ["with slice", "{{with .SI}}{{.}}{{else}}EMPTY{{end}}", "tVal", "[3 4 5]"],
  ["with emptymap", "{{with .MSIEmpty}}{{.}}{{else}}EMPTY{{end}}", "tVal", "EMPTY"],
  ["with map", "{{with .MSIone}}{{.}}{{else}}EMPTY{{end}}", "tVal", "map[one:1]"],
  ["with empty interface, struct field", "{{with .Empty4}}{{.V}}{{end}}", "tVal", "UinEmpty"],
  ["with $x int", "{{with $x := .I}}{{$x}}{{end}}", "tVal", "17"],
  ["with $x struct.U.V", "{{with $x := $}}{{$x.U.V}}{{end}}", "tVal", "v"],
  ["with variable and action", "{{with $x := $}}{{$y := $.U.V}}{{$y}}{{end}}", "tVal", "v"],
  ["with on typed nil interface value", "{{with .NonEmptyInterfaceTypedNil}}TRUE{{ end }}", "tVal", ""],
  ["range []int", "{{range .SI}}-{{.}}-{{end}}", "tVal", "-3--4--5-"],
  ["range empty no else", "{{range .SIEmpty}}-{{.}}-{{end}}", "tVal", ""],
  ["range []int else", "{{range .SI}}-{{.}}-{{else}}EMPTY{{end}}", "tVal", "-3--4--5-"],
  ["range empty else", "{{range .SIEmpty}}-{{.}}-{{else}}EMPTY{{end}}", "tVal", "EMPTY"],
  ["range []int break else", "{{range .SI}}-{{.}}-{{break}}NOTREACHED{{else}}EMPTY{{end}}", "tVal", "-3-"],
  [
    "range []int continue else",
    "{{range .SI}}-{{.}}-{{continue}}NOTREACHED{{else}}EMPTY{{end}}",
    "tVal",
    "-3--4--5-",
  ],
  ["range []bool", "{{range .SB}}-{{.}}-{{end}}", "tVal", "-true--false-"],
  ["range []int method", "{{range .SI | .MAdd .I}}-{{.}}-{{end}}", "tVal", "-20--21--22-"],
  ["range map", "{{range .MSI}}-{{.}}-{{end}}", "tVal", "-1--3--2-"],
  ["range empty map no else", "{{range .MSIEmpty}}-{{.}}-{{end}}", "tVal", ""],
  ["range map else", "{{range .MSI}}-{{.}}-{{else}}EMPTY{{end}}", "tVal", "-1--3--2-"],
  ["range empty map else", "{{range .MSIEmpty}}-{{.}}-{{else}}EMPTY{{end}}", "tVal", "EMPTY"],
  ["range empty interface", "{{range .Empty3}}-{{.}}-{{else}}EMPTY{{end}}", "tVal", "-7--8-"],
  ["range empty nil", "{{range .Empty0}}-{{.}}-{{end}}", "tVal", ""],
  ["range $x SI", "{{range $x := .SI}}<{{$x}}>{{end}}", "tVal", "<3><4><5>"],
  ["range $x $y SI", "{{range $x, $y := .SI}}<{{$x}}={{$y}}>{{end}}", "tVal", "<0=3><1=4><2=5>"],
  ["range $x MSIone", "{{range $x := .MSIone}}<{{$x}}>{{end}}", "tVal", "<1>"],
  ["range $x $y MSIone", "{{range $x, $y := .MSIone}}<{{$x}}={{$y}}>{{end}}", "tVal", "<one=1>"],
  ["range $x PSI", "{{range $x := .PSI}}<{{$x}}>{{end}}", "tVal", "<21><22><23>"],
  ["declare in range", "{{range $x := .PSI}}<{{$foo:=$x}}{{$x}}>{{end}}", "tVal", "<21><22><23>"],
  ["range count", "{{range $i, $x := count 5}}[{{$i}}]{{$x}}{{end}}", "tVal", "[0]a[1]b[2]c[3]d[4]e"],
  ["range nil count", "{{range $i, $x := count 0}}{{else}}empty{{end}}", "tVal", "empty"],
  ["or as if true", '{{or .SI "slice is empty"}}', "tVal", "[3 4 5]"],
  ["or as if false", '{{or .SIEmpty "slice is empty"}}', "tVal", "slice is empty"],
  [
    "error method, error",
    "{{.MyError true}}",
    "tVal",
    {
      error:
        'template: error method, error:1:2: executing "error method, error" at <.MyError>: error calling MyError: my error',
    },
  ],
  ["error method, no error", "{{.MyError false}}", "tVal", "false"],
  ["decimal", "{{print 1234}}", "tVal", "1234"],
  ["decimal _", "{{print 12_34}}", "tVal", "1234"],
  ["binary", "{{print 0b101}}", "tVal", "5"],
  ["binary _", "{{print 0b_1_0_1}}", "tVal", "5"],
  ["BINARY", "{{print 0B101}}", "tVal", "5"],
  ["octal0", "{{print 0377}}", "tVal", "255"],
  ["octal", "{{print 0o377}}", "tVal", "255"],
  ["octal _", "{{print 0o_3_7_7}}", "tVal", "255"],
  ["OCTAL", "{{print 0O377}}", "tVal", "255"],
  ["hex", "{{print 0x123}}", "tVal", "291"],
  ["hex _", "{{print 0x1_23}}", "tVal", "291"],
  ["HEX", "{{print 0X123ABC}}", "tVal", "1194684"],
  ["float", "{{print 123.4}}", "tVal", "123.4"],
  ["float _", "{{print 0_0_1_2_3.4}}", "tVal", "123.4"],
  ["hex float", "{{print +0x1.ep+2}}", "tVal", "7.5"],
  ["hex float _", "{{print +0x_1.e_0p+0_2}}", "tVal", "7.5"],
  ["HEX float", "{{print +0X1.EP+2}}", "tVal", "7.5"],
  ["print multi", "{{print 1_2_3_4 7.5_00_00_00}}", "tVal", "1234 7.5"],
  ["print multi2", "{{print 1234 0x0_1.e_0p+02}}", "tVal", "1234 7.5"],
  ["bug0", "{{range .MSIone}}{{if $.Method1 .}}X{{end}}{{end}}", "tVal", "X"],
  ["bug1", "{{.Method0}}", "iValPtr", "M0"],
  ["bug2", "{{$.NonEmptyInterface.Method0}}", "tVal", "M0"],
  ["bug3", "{{with $}}{{.Method0}}{{end}}", "tVal", "M0"],
  ["bug4", "{{if .Empty0}}non-nil{{else}}nil{{end}}", "tVal", "nil"],
  ["bug5", "{{.Str}}", "tVal", "foozle"],
  ["bug5a", "{{.Err}}", "tVal", "erroozle"],
  ["bug6a", "{{vfunc .V0 .V1}}", "tVal", "vfunc"],
  ["bug6b", "{{vfunc .V0 .V0}}", "tVal", "vfunc"],
  ["bug6c", "{{vfunc .V1 .V0}}", "tVal", "vfunc"],
  ["bug6d", "{{vfunc .V1 .V1}}", "tVal", "vfunc"],
  [
    "bug7a",
    "{{3 2}}",
    "tVal",
    { error: 'template: bug7a:1:2: executing "bug7a" at <3>: can\'t give argument to non-function 3' },
  ],
  [
    "bug7b",
    "{{$x := 1}}{{$x 2}}",
    "tVal",
    { error: 'template: bug7b:1:13: executing "bug7b" at <$x>: can\'t give argument to non-function $x' },
  ],
  [
    "bug7c",
    "{{$x := 1}}{{3 | $x}}",
    "tVal",
    { error: 'template: bug7c:1:17: executing "bug7c" at <$x>: can\'t give argument to non-function $x' },
  ],
  [
    "bug8a",
    "{{3|oneArg}}",
    "tVal",
    {
      error:
        'template: bug8a:1:4: executing "bug8a" at <oneArg>: wrong type for value; expected string; got int',
    },
  ],
  [
    "bug8b",
    "{{4|dddArg 3}}",
    "tVal",
    {
      error: 'template: bug8b:1:11: executing "bug8b" at <3>: wrong type for value; expected string; got int',
    },
  ],
  ["bug9", "{{.cause}}", "causeMap", "neglect"],
  ["bug10", "{{mapOfThree.three}}-{{(mapOfThree).three}}", "int0", "3-3"],
  [
    "bug11",
    "{{valueString .PS}}",
    "tZero",
    { error: 'template: bug11:1:14: executing "bug11" at <.PS>: dereference of nil pointer of type string' },
  ],
  ["bug12xe", "{{printf `%T` 0xef}}", "tZero", "int"],
  ["bug12xE", "{{printf `%T` 0xEE}}", "tZero", "int"],
  ["bug12Xe", "{{printf `%T` 0Xef}}", "tZero", "int"],
  ["bug12XE", "{{printf `%T` 0XEE}}", "tZero", "int"],
  ["bug13", "{{print (.Copy).I}}", "tVal", "17"],
  [
    "bug14a",
    "{{(nil).True}}",
    "tVal",
    { error: 'template: bug14a:1:3: executing "bug14a" at <nil>: nil is not a command' },
  ],
  [
    "bug14b",
    "{{$x := nil}}{{$x.anything}}",
    "tVal",
    { error: 'template: bug14b:1:8: executing "bug14b" at <nil>: nil is not a command' },
  ],
  [
    "bug14c",
    '{{$x := (1.0)}}{{$y := ("hello")}}{{$x.anything}}{{$y.true}}',
    "tVal",
    {
      error:
        'template: bug14c:1:38: executing "bug14c" at <$x.anything>: can\'t evaluate field anything in type float64',
    },
  ],
  [
    "bug15",
    "{{valueString returnInt}}",
    "tVal",
    {
      error:
        'template: bug15:1:14: executing "bug15" at <returnInt>: wrong type for value; expected string; got int',
    },
  ],
  [
    "bug16a",
    "{{true|printf}}",
    "tVal",
    {
      error:
        'template: bug16a:1:7: executing "bug16a" at <printf>: wrong type for value; expected string; got bool',
    },
  ],
  [
    "bug16b",
    "{{1|printf}}",
    "tVal",
    {
      error:
        'template: bug16b:1:4: executing "bug16b" at <printf>: wrong type for value; expected string; got int',
    },
  ],
  [
    "bug16c",
    "{{1.1|printf}}",
    "tVal",
    {
      error:
        'template: bug16c:1:6: executing "bug16c" at <printf>: wrong type for value; expected string; got float64',
    },
  ],
  [
    "bug16d",
    "{{'x'|printf}}",
    "tVal",
    {
      error:
        'template: bug16d:1:6: executing "bug16d" at <printf>: wrong type for value; expected string; got int',
    },
  ],
  [
    "bug16e",
    "{{0i|printf}}",
    "tVal",
    {
      error:
        'template: bug16e:1:5: executing "bug16e" at <printf>: wrong type for value; expected string; got complex128',
    },
  ],
  [
    "bug16f",
    '{{true|twoArgs "xxx"}}',
    "tVal",
    {
      error:
        'template: bug16f:1:15: executing "bug16f" at <"xxx">: wrong type for value; expected string; got bool',
    },
  ],
  ["bug16g", '{{"aaa" |twoArgs "bbb"}}', "tVal", "twoArgs=bbbaaa"],
  [
    "bug16h",
    "{{1|oneArg}}",
    "tVal",
    {
      error:
        'template: bug16h:1:4: executing "bug16h" at <oneArg>: wrong type for value; expected string; got int',
    },
  ],
  ["bug16i", '{{"aaa"|oneArg}}', "tVal", "oneArg=aaa"],
  ["bug16j", '{{1+2i|printf "%v"}}', "tVal", "(1+2i)"],
  ["bug16k", '{{"aaa"|printf }}', "tVal", "aaa"],
  ["bug17a", "{{.NonEmptyInterface.X}}", "tVal", "x"],
  ["bug17b", "-{{.NonEmptyInterface.Method1 1234}}-", "tVal", "-1234-"],
  ["bug17c", "{{len .NonEmptyInterfacePtS}}", "tVal", "2"],
  ["bug17d", "{{index .NonEmptyInterfacePtS 0}}", "tVal", "a"],
  ["bug17e", "{{range .NonEmptyInterfacePtS}}-{{.}}-{{end}}", "tVal", "-a--b-"],
  ["bug18a", "{{eq . '.'}}", "runeDot", "true"],
  ["bug18b", "{{eq . 'e'}}", "runeE", "true"],
  ["bug18c", "{{eq . 'P'}}", "runeP", "true"],
  // Added after go1.19 (expected outputs from go1.24's exec_test.go; messages from go1.24's docker CLI where it shows them).
  [
    "empty call",
    "{{call}}",
    "tVal",
    {
      error:
        'template: empty call:1:2: executing "empty call" at <call>: wrong number of args for call: want at least 1 got 0',
    },
  ],
  ["empty call after pipe valid", "{{.ErrFunc | call}}", "tVal", "bla"],
  [
    "empty call after pipe invalid",
    "{{1 | call}}",
    "tVal",
    {
      error:
        'template: empty call after pipe invalid:1:6: executing "empty call after pipe invalid" at <call>: error calling call: non-function <int Value> of type int',
    },
  ],
  ["if nonNilPointer", "{{if .PI}}NON-ZERO{{else}}ZERO{{end}}", "tVal", "NON-ZERO"],
  ["if nilPointer", "{{if .NIL}}NON-ZERO{{else}}ZERO{{end}}", "tVal", "ZERO"],
  ["with else with", "{{with 0}}{{.}}{{else with true}}{{.}}{{end}}", "tVal", "true"],
  [
    "with else with chain",
    "{{with 0}}{{.}}{{else with false}}{{.}}{{else with `notempty`}}{{.}}{{end}}",
    "tVal",
    "notempty",
  ],
  ["range iter.Seq[int]", "{{range $i := .}}{{$i}}{{end}}", "seq1of2", "01"],
  ["i = range iter.Seq[int]", "{{$i := 0}}{{range $i = .}}{{$i}}{{end}}", "seq1of2", "01"],
  [
    "range iter.Seq[int] over two var",
    "{{range $i, $c := .}}{{$c}}{{end}}",
    "seq1of2",
    {
      // %v of a func is its address, which differs from run to run.
      error:
        /^template: range iter.Seq\[int\] over two var:1:18: executing "range iter.Seq\[int\] over two var" at <.>: can't use 0x[0-9a-f]+ iterate over more than one variable$/,
    },
  ],
  ["i, c := range iter.Seq2[int,int]", "{{range $i, $c := .}}{{$i}}{{$c}}{{end}}", "seq2of2", "0112"],
  [
    "i, c = range iter.Seq2[int,int]",
    "{{$i := 0}}{{$c := 0}}{{range $i, $c = .}}{{$i}}{{$c}}{{end}}",
    "seq2of2",
    "0112",
  ],
  ["i = range iter.Seq2[int,int]", "{{$i := 0}}{{range $i = .}}{{$i}}{{end}}", "seq2of2", "01"],
  ["i := range iter.Seq2[int,int]", "{{range $i := .}}{{$i}}{{end}}", "seq2of2", "01"],
  [
    "i,c,x range iter.Seq2[int,int]",
    "{{$i := 0}}{{$c := 0}}{{$x := 0}}{{range $i, $c = .}}{{$i}}{{$c}}{{end}}",
    "seq2of2",
    "0112",
  ],
  ["i,x range iter.Seq[int]", "{{$i := 0}}{{$x := 0}}{{range $i = .}}{{$i}}{{end}}", "seq1of2", "01"],
  ["range iter.Seq[int] else", "{{range $i := .}}{{$i}}{{else}}empty{{end}}", "seq1of0", "empty"],
  ["range iter.Seq2[int,int] else", "{{range $i := .}}{{$i}}{{else}}empty{{end}}", "seq2of0", "empty"],
  ["range int8", '{{range $v := .}}{{printf "%T%d" $v $v}}{{end}}', "int8_5", "int80int81int82int83int84"],
  [
    "range int16",
    '{{range $v := .}}{{printf "%T%d" $v $v}}{{end}}',
    "int16_5",
    "int160int161int162int163int164",
  ],
  [
    "range int32",
    '{{range $v := .}}{{printf "%T%d" $v $v}}{{end}}',
    "int32_5",
    "int320int321int322int323int324",
  ],
  [
    "range int64",
    '{{range $v := .}}{{printf "%T%d" $v $v}}{{end}}',
    "int64_5",
    "int640int641int642int643int644",
  ],
  ["range int", '{{range $v := .}}{{printf "%T%d" $v $v}}{{end}}', "int_5", "int0int1int2int3int4"],
  [
    "range uint8",
    '{{range $v := .}}{{printf "%T%d" $v $v}}{{end}}',
    "uint8_5",
    "uint80uint81uint82uint83uint84",
  ],
  [
    "range uint16",
    '{{range $v := .}}{{printf "%T%d" $v $v}}{{end}}',
    "uint16_5",
    "uint160uint161uint162uint163uint164",
  ],
  [
    "range uint32",
    '{{range $v := .}}{{printf "%T%d" $v $v}}{{end}}',
    "uint32_5",
    "uint320uint321uint322uint323uint324",
  ],
  [
    "range uint64",
    '{{range $v := .}}{{printf "%T%d" $v $v}}{{end}}',
    "uint64_5",
    "uint640uint641uint642uint643uint644",
  ],
  ["range uint", '{{range $v := .}}{{printf "%T%d" $v $v}}{{end}}', "uint_5", "uint0uint1uint2uint3uint4"],
  [
    "range uintptr",
    '{{range $v := .}}{{printf "%T%d" $v $v}}{{end}}',
    "uintptr_5",
    "uintptr0uintptr1uintptr2uintptr3uintptr4",
  ],
  ["range uintptr(0)", "{{range $v := .}}{{print $v}}{{else}}empty{{end}}", "uintptr_0", "empty"],
  ["range 5", '{{range $v := 5}}{{printf "%T%d" $v $v}}{{end}}', "nil", "int0int1int2int3int4"],
  [
    "range int with two variables",
    "{{range $i, $e := 3}}{{end}}",
    "nil",
    {
      error:
        'template: range int with two variables:1:18: executing "range int with two variables" at <3>: can\'t use 3 to iterate over more than one variable',
    },
  ],
  [
    "range over a float",
    "{{range 3.5}}{{end}}",
    "nil",
    {
      error:
        'template: range over a float:1:8: executing "range over a float" at <3.5>: range can\'t iterate over 3.5',
    },
  ],
  [
    "range over a string",
    '{{range $i, $x := "ab"}}{{end}}',
    "nil",
    {
      error:
        'template: range over a string:1:18: executing "range over a string" at <"ab">: range can\'t iterate over ab',
    },
  ],
  ["issue56490", "{{$i := 0}}{{$x := 0}}{{range $i = .AI}}{{end}}{{$i}}", "tVal", "5"],
  ["issue60801", "{{$k := 0}}{{$v := 0}}{{range $k, $v = .AI}}{{$k}}={{$v}} {{end}}", "tVal", "0=3 1=4 2=5 "],
];

/**
 * exec_test.go's cmpTests: `{{if EXPR}}true{{else}}false{{end}}` run on cmpStruct (godata.ts),
 * with Go's output or error.
 */
export const CMP_CASES: readonly (readonly [expr: string, want: Expect])[] = [
  ["eq true true", "true"],
  ["eq true false", "false"],
  ["eq 1+2i 1+2i", "true"],
  ["eq 1+2i 1+3i", "false"],
  ["eq 1.5 1.5", "true"],
  ["eq 1.5 2.5", "false"],
  ["eq 1 1", "true"],
  ["eq 1 2", "false"],
  ["eq `xy` `xy`", "true"],
  ["eq `xy` `xyz`", "false"],
  ["eq .Uthree .Uthree", "true"],
  ["eq .Uthree .Ufour", "false"],
  ["eq 3 4 5 6 3", "true"],
  ["eq 3 4 5 6 7", "false"],
  ["ne true true", "false"],
  ["ne true false", "true"],
  ["ne 1+2i 1+2i", "false"],
  ["ne 1+2i 1+3i", "true"],
  ["ne 1.5 1.5", "false"],
  ["ne 1.5 2.5", "true"],
  ["ne 1 1", "false"],
  ["ne 1 2", "true"],
  ["ne `xy` `xy`", "false"],
  ["ne `xy` `xyz`", "true"],
  ["ne .Uthree .Uthree", "false"],
  ["ne .Uthree .Ufour", "true"],
  ["lt 1.5 1.5", "false"],
  ["lt 1.5 2.5", "true"],
  ["lt 1 1", "false"],
  ["lt 1 2", "true"],
  ["lt `xy` `xy`", "false"],
  ["lt `xy` `xyz`", "true"],
  ["lt .Uthree .Uthree", "false"],
  ["lt .Uthree .Ufour", "true"],
  ["le 1.5 1.5", "true"],
  ["le 1.5 2.5", "true"],
  ["le 2.5 1.5", "false"],
  ["le 1 1", "true"],
  ["le 1 2", "true"],
  ["le 2 1", "false"],
  ["le `xy` `xy`", "true"],
  ["le `xy` `xyz`", "true"],
  ["le `xyz` `xy`", "false"],
  ["le .Uthree .Uthree", "true"],
  ["le .Uthree .Ufour", "true"],
  ["le .Ufour .Uthree", "false"],
  ["gt 1.5 1.5", "false"],
  ["gt 1.5 2.5", "false"],
  ["gt 1 1", "false"],
  ["gt 2 1", "true"],
  ["gt 1 2", "false"],
  ["gt `xy` `xy`", "false"],
  ["gt `xy` `xyz`", "false"],
  ["gt .Uthree .Uthree", "false"],
  ["gt .Uthree .Ufour", "false"],
  ["gt .Ufour .Uthree", "true"],
  ["ge 1.5 1.5", "true"],
  ["ge 1.5 2.5", "false"],
  ["ge 2.5 1.5", "true"],
  ["ge 1 1", "true"],
  ["ge 1 2", "false"],
  ["ge 2 1", "true"],
  ["ge `xy` `xy`", "true"],
  ["ge `xy` `xyz`", "false"],
  ["ge `xyz` `xy`", "true"],
  ["ge .Uthree .Uthree", "true"],
  ["ge .Uthree .Ufour", "false"],
  ["ge .Ufour .Uthree", "true"],
  ["eq .Uthree .Three", "true"],
  ["eq .Three .Uthree", "true"],
  ["le .Uthree .Three", "true"],
  ["le .Three .Uthree", "true"],
  ["ge .Uthree .Three", "true"],
  ["ge .Three .Uthree", "true"],
  ["lt .Uthree .Three", "false"],
  ["lt .Three .Uthree", "false"],
  ["gt .Uthree .Three", "false"],
  ["gt .Three .Uthree", "false"],
  ["eq .Ufour .Three", "false"],
  ["lt .Ufour .Three", "false"],
  ["gt .Ufour .Three", "true"],
  ["eq .NegOne .Uthree", "false"],
  ["eq .Uthree .NegOne", "false"],
  ["ne .NegOne .Uthree", "true"],
  ["ne .Uthree .NegOne", "true"],
  ["lt .NegOne .Uthree", "true"],
  ["lt .Uthree .NegOne", "false"],
  ["le .NegOne .Uthree", "true"],
  ["le .Uthree .NegOne", "false"],
  ["gt .NegOne .Uthree", "false"],
  ["gt .Uthree .NegOne", "true"],
  ["ge .NegOne .Uthree", "false"],
  ["ge .Uthree .NegOne", "true"],
  ["eq (index `x` 0) 'x'", "true"],
  ["eq (index `x` 0) 'y'", "false"],
  ["eq .V1 .V2", "true"],
  ["eq .Ptr .Ptr", "true"],
  ["eq .Ptr .NilPtr", "false"],
  ["eq .NilPtr .NilPtr", "true"],
  ["eq .Iface1 .Iface1", "true"],
  ["eq .Iface1 .NilIface", "false"],
  ["eq .NilIface .NilIface", "true"],
  ["eq .NilIface .Iface1", "false"],
  ["eq .NilIface 0", "false"],
  ["eq 0 .NilIface", "false"],
  ["eq .Map .Map", "true"],
  ["eq .Map nil", "true"],
  ["eq nil .Map", "true"],
  ["eq .Map .NonNilMap", "false"],
  [
    "eq `xy` 1",
    {
      error:
        'template: empty:1:5: executing "empty" at <eq `xy` 1>: error calling eq: incompatible types for comparison',
    },
  ],
  [
    "eq 2 2.0",
    {
      error:
        'template: empty:1:5: executing "empty" at <eq 2 2.0>: error calling eq: incompatible types for comparison',
    },
  ],
  [
    "lt true true",
    {
      error:
        'template: empty:1:5: executing "empty" at <lt true true>: error calling lt: invalid type for comparison',
    },
  ],
  [
    "lt 1+0i 1+0i",
    {
      error:
        'template: empty:1:5: executing "empty" at <lt 1+0i 1+0i>: error calling lt: invalid type for comparison',
    },
  ],
  [
    "eq .Ptr 1",
    {
      error:
        'template: empty:1:5: executing "empty" at <eq .Ptr 1>: error calling eq: incompatible types for comparison',
    },
  ],
  [
    "eq .Ptr .NegOne",
    {
      error:
        'template: empty:1:5: executing "empty" at <eq .Ptr .NegOne>: error calling eq: incompatible types for comparison',
    },
  ],
  [
    "eq .Map .V1",
    {
      error:
        'template: empty:1:5: executing "empty" at <eq .Map .V1>: error calling eq: non-comparable types map[]: map[int]int, template.V: {0}',
    },
  ],
  [
    "eq .NonNilMap .NonNilMap",
    {
      error:
        'template: empty:1:5: executing "empty" at <eq .NonNilMap .NonNilMap>: error calling eq: non-comparable type map[]: map[int]int',
    },
  ],
];
