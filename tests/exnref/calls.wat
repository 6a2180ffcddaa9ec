;; exceptions across calls, call_indirect, and through a host frame: the
;; import env.callback(n) calls this instance's export "callback"(n).
(module
  (import "env" "callback" (func $cb (param i32) (result i32)))
  (tag $e (export "e") (param i32))
  (table 2 funcref)
  (elem (i32.const 0) $lvl3 $lvl2)

  (func (export "callback") (param i32) (result i32)
    local.get 0
    i32.const 0
    i32.lt_s
    if
      local.get 0
      throw $e
    end
    local.get 0
    i32.const 2
    i32.mul)

  ;; wasm -> host -> wasm (throws) -> back through the host frame
  (func (export "through_host") (param i32) (result i32)
    try (result i32)
      local.get 0
      call $cb
    catch $e
      i32.const 1000
      i32.sub
    end)

  ;; the same with a delegate to the caller and a rethrow on the way
  (func $host_delegate (param i32) (result i32)
    try (result i32)
      try (result i32)
        local.get 0
        call $cb
      delegate 1
    catch_all
      i32.const -5
    end)

  (func (export "through_host_delegate") (param i32) (result i32)
    try (result i32)
      try (result i32)
        local.get 0
        call $host_delegate
      catch_all
        rethrow 0
      end
    catch $e
      i32.const 2000
      i32.sub
    end)

  (func $lvl3 (param i32) (result i32)
    local.get 0
    throw $e)

  (func $lvl2 (param i32) (result i32)
    try (result i32)
      local.get 0
      call $lvl3
    catch_all
      rethrow 0
    end)

  (func (export "across_calls") (param i32) (result i32)
    try (result i32)
      local.get 0
      call $lvl2
    catch $e
      i32.const 1
      i32.add
    end)

  (func (export "uncaught") (param i32) (result i32)
    local.get 0
    call $lvl2)

  (func (export "indirect") (param i32) (result i32)
    try (result i32)
      i32.const 9
      local.get 0
      call_indirect (param i32) (result i32)
    catch $e
      i32.const 10
      i32.mul
    end)

  ;; recursion: each level catches, adds one, throws again
  (func $rec (export "rec") (param i32) (result i32)
    local.get 0
    i32.eqz
    if
      i32.const 0
      throw $e
    end
    try (result i32)
      local.get 0
      i32.const 1
      i32.sub
      call $rec
    catch $e
      i32.const 1
      i32.add
      throw $e
    end)

  (func (export "recursive") (param i32) (result i32)
    try (result i32)
      local.get 0
      call $rec
    catch $e
    end)
)
