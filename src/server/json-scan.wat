;; The body scan of src/server/json.ts, compiled to json-scan-wasm.ts by `npm run build:wasm` (a test checks that
;; the two agree) in two builds: "simd" keeps the simd:begin-end block and drops the scalar one; "scalar", for CPUs
;; without WebAssembly SIMD (x86-64 without SSE4.1), the other way round. It measures the nesting depth of a UTF-8
;; JSON text, stopping once it passes a limit, and finds the byte ranges of request.object.metadata.managedFields and
;; request.oldObject.metadata.managedFields.
;;
;; Memory: bytes 0-63 hold the result (an i32 count of ranges, then up to MAX_RANGES [start, end) i32 pairs, offsets
;; into the text); the key names sit at 64-127; the text is copied in at TEXT (128). A text needs TEXT + its length
;; + 16 bytes of memory (a 16-byte load may read past its end). Bytes, not characters: every byte of a multi-byte
;; UTF-8 character is >= 0x80, never a delimiter.
(module
  (memory (export "memory") 1)
  ;; the keys leading from the root to a managedFields array: "request" at 64, "object" at 71, "oldObject" at 77,
  ;; "metadata" at 86, "managedFields" at 94
  (data (i32.const 64) "requestobjectoldObjectmetadatamanagedFields")
  (global $TEXT i32 (i32.const 128))
  (global $MAX_RANGES i32 (i32.const 7))

  ;; Whether the n bytes at a equal the n bytes at b.
  (func $equal (param $a i32) (param $b i32) (param $n i32) (result i32)
    (block $differ
      (loop $next
        (if (i32.eqz (local.get $n)) (then (return (i32.const 1))))
        (br_if $differ (i32.ne (i32.load8_u (local.get $a)) (i32.load8_u (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (i32.const 0))

  ;; Whether the string bytes [start, end) are a key on the path at depth (1: request, 2: object or oldObject,
  ;; 3: metadata, 4: managedFields).
  (func $onPath (param $depth i32) (param $start i32) (param $end i32) (result i32)
    (local $n i32)
    (local.set $n (i32.sub (local.get $end) (local.get $start)))
    (if (i32.eq (local.get $depth) (i32.const 1))
      (then (return (i32.and (i32.eq (local.get $n) (i32.const 7)) (call $equal (local.get $start) (i32.const 64) (i32.const 7))))))
    (if (i32.eq (local.get $depth) (i32.const 2))
      (then
        (if (i32.eq (local.get $n) (i32.const 6)) (then (return (call $equal (local.get $start) (i32.const 71) (i32.const 6)))))
        (return (i32.and (i32.eq (local.get $n) (i32.const 9)) (call $equal (local.get $start) (i32.const 77) (i32.const 9))))))
    (if (i32.eq (local.get $depth) (i32.const 3))
      (then (return (i32.and (i32.eq (local.get $n) (i32.const 8)) (call $equal (local.get $start) (i32.const 86) (i32.const 8))))))
    (if (i32.eq (local.get $depth) (i32.const 4))
      (then (return (i32.and (i32.eq (local.get $n) (i32.const 13)) (call $equal (local.get $start) (i32.const 94) (i32.const 13))))))
    (i32.const 0))

  ;; Whether the next byte at or after i (before end), whitespace aside, is a colon.
  (func $colonFollows (param $i i32) (param $end i32) (result i32)
    (local $c i32)
    (loop $next
      (if (i32.ge_u (local.get $i) (local.get $end)) (then (return (i32.const 0))))
      (local.set $c (i32.load8_u (local.get $i)))
      (if (i32.or (i32.or (i32.eq (local.get $c) (i32.const 32)) (i32.eq (local.get $c) (i32.const 10)))
                  (i32.or (i32.eq (local.get $c) (i32.const 13)) (i32.eq (local.get $c) (i32.const 9))))
        (then (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $next))))
    (i32.eq (local.get $c) (i32.const 58)))

  ;; Scans the n-byte text at TEXT: returns the deepest nesting (or the first depth past max, where it stops) and
  ;; writes the managedFields ranges found (at most MAX_RANGES; a range not recorded is parsed, never lost).
  (func (export "scan") (param $n i32) (param $max i32) (result i32)
    (local $i i32) (local $end i32) (local $c i32) (local $close i32) (local $mask i32)
    (local $depth i32) (local $deepest i32) (local $onPath i32) (local $keyOnPath i32) (local $skipFrom i32) (local $count i32)
    (local.set $i (global.get $TEXT))
    (local.set $end (i32.add (global.get $TEXT) (local.get $n)))
    (local.set $skipFrom (i32.const -1))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $i)))
        (block $advance
          ;; a string: a key on the path when the object it is in is
          (if (i32.eq (local.get $c) (i32.const 34))
            (then
              ;; simd:begin
              ;; the closing quote, 16 bytes at a time: the first quote or backslash among them (a backslash escapes the
              ;; byte after it); an unterminated string ends the scan
              (local.set $close (i32.add (local.get $i) (i32.const 1)))
              (loop $inString
                (br_if $done (i32.ge_u (local.get $close) (local.get $end)))
                (local.set $mask
                  (i8x16.bitmask
                    (v128.or
                      (i8x16.eq (v128.load (local.get $close)) (v128.const i8x16 34 34 34 34 34 34 34 34 34 34 34 34 34 34 34 34))
                      (i8x16.eq (v128.load (local.get $close)) (v128.const i8x16 92 92 92 92 92 92 92 92 92 92 92 92 92 92 92 92)))))
                (if (i32.eqz (local.get $mask))
                  (then (local.set $close (i32.add (local.get $close) (i32.const 16))) (br $inString)))
                (local.set $close (i32.add (local.get $close) (i32.ctz (local.get $mask))))
                (br_if $done (i32.ge_u (local.get $close) (local.get $end)))
                (if (i32.eq (i32.load8_u (local.get $close)) (i32.const 92))
                  (then (local.set $close (i32.add (local.get $close) (i32.const 2))) (br $inString))))
              ;; simd:end
              ;; scalar:begin
              ;; the closing quote, a byte at a time (a backslash escapes the byte after it); an unterminated string ends
              ;; the scan
              (local.set $close (local.get $i))
              (loop $inString
                (local.set $close (i32.add (local.get $close) (i32.const 1)))
                (br_if $done (i32.ge_u (local.get $close) (local.get $end)))
                (local.set $c (i32.load8_u (local.get $close)))
                (if (i32.eq (local.get $c) (i32.const 92)) (then (local.set $close (i32.add (local.get $close) (i32.const 1)))))
                (br_if $inString (i32.ne (local.get $c) (i32.const 34))))
              ;; scalar:end
              (if (i32.and (i32.eq (local.get $depth) (local.get $onPath)) (i32.gt_s (local.get $depth) (i32.const 0)))
                (then
                  (local.set $keyOnPath
                    (i32.and
                      (call $onPath (local.get $depth) (i32.add (local.get $i) (i32.const 1)) (local.get $close))
                      (call $colonFollows (i32.add (local.get $close) (i32.const 1)) (local.get $end))))))
              (local.set $i (local.get $close))
              (br $advance)))
          ;; { (123) and [ (91): 123 with bit 5 set
          (if (i32.eq (i32.or (local.get $c) (i32.const 32)) (i32.const 123))
            (then
              (local.set $depth (i32.add (local.get $depth) (i32.const 1)))
              (if (i32.gt_s (local.get $depth) (local.get $deepest))
                (then
                  (local.set $deepest (local.get $depth))
                  (if (i32.gt_s (local.get $deepest) (local.get $max))
                    (then (i32.store (i32.const 0) (i32.const 0)) (return (local.get $deepest))))))
              (if (i32.and (i32.eq (i32.sub (local.get $depth) (i32.const 1)) (local.get $onPath))
                           (i32.or (i32.eq (local.get $depth) (i32.const 1)) (local.get $keyOnPath)))
                (then
                  (if (i32.and (i32.eq (local.get $c) (i32.const 123)) (i32.le_s (local.get $depth) (i32.const 4)))
                    (then (local.set $onPath (local.get $depth))))
                  (if (i32.and (i32.eq (local.get $c) (i32.const 91)) (i32.eq (local.get $depth) (i32.const 5)))
                    (then (local.set $skipFrom (local.get $i))))))
              (local.set $keyOnPath (i32.const 0))
              (br $advance)))
          ;; } (125) and ] (93): 125 with bit 5 set
          (if (i32.eq (i32.or (local.get $c) (i32.const 32)) (i32.const 125))
            (then
              (if (i32.eq (local.get $depth) (local.get $onPath))
                (then (local.set $onPath (i32.sub (local.get $onPath) (i32.const 1)))))
              (if (i32.and (i32.ne (local.get $skipFrom) (i32.const -1)) (i32.eq (local.get $depth) (i32.const 5)))
                (then
                  (if (i32.lt_u (local.get $count) (global.get $MAX_RANGES))
                    (then
                      (i32.store (i32.add (i32.const 4) (i32.shl (local.get $count) (i32.const 3)))
                        (i32.sub (local.get $skipFrom) (global.get $TEXT)))
                      (i32.store (i32.add (i32.const 8) (i32.shl (local.get $count) (i32.const 3)))
                        (i32.sub (i32.add (local.get $i) (i32.const 1)) (global.get $TEXT)))
                      (local.set $count (i32.add (local.get $count) (i32.const 1)))))
                  (local.set $skipFrom (i32.const -1))))
              (local.set $depth (i32.sub (local.get $depth) (i32.const 1)))
              (local.set $keyOnPath (i32.const 0)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.store (i32.const 0) (local.get $count))
    (local.get $deepest)))
