;; unreachable code after throw/rethrow/br/unreachable inside tries and
;; catches, and whole tries in dead code.
(module
  (tag $e (param i32))

  (func $unr (param i32) (result i32)
    try (result i32)
      local.get 0
      throw $e
      i32.add
      br 0
      try (result i32)
        i32.const 1
      catch_all
        i32.const 2
      end
    catch $e
      rethrow 0
      drop
      drop
      i32.const 1
    catch_all
      unreachable
      rethrow 0
    end)

  (func (export "unreachable_code") (param i32) (result i32)
    try (result i32)
      local.get 0
      call $unr
    catch $e
      i32.const 1
      i32.add
    end)

  ;; tries (with params, delegate, rethrow) in dead code
  (func (export "dead_try") (param i32) (result i32)
    local.get 0
    return
    try (param i32) (result i32)
      throw $e
    catch $e
      rethrow 0
    catch_all
      rethrow 0
    end
    try (result i32)
      try (result i32)
        unreachable
      delegate 1
    catch_all
      unreachable
    end
    try
      unreachable
    delegate 0
    drop)

  ;; code after the last throw of every clause
  (func (export "all_clauses_throw") (param i32) (result i32)
    try (result i32)
      try (result i32)
        local.get 0
        throw $e
        unreachable
      catch $e
        throw $e
        i32.const 0
      catch_all
        rethrow 0
        br 0
      end
    catch $e
    end)
)
