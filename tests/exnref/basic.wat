;; try/catch basics: one tag with a value, several clauses in order,
;; catch_all, tags that are not caught, try without catches.
(module
  (tag $e (param i32))
  (tag $e2 (param i32 i64))
  (tag $empty)
  (func $throw (param i32) local.get 0 throw $e)

  (func (export "catch_value") (param i32) (result i32)
    try (result i32)
      local.get 0
      call $throw
      i32.const 0
    catch $e
      i32.const 100
      i32.add
    end)

  (func (export "no_throw") (param i32) (result i32)
    try (result i32)
      local.get 0
    catch $e
      drop
      i32.const -1
    end)

  ;; 0 -> $e 5, 1 -> $e2 (6, 7), 2 -> $empty, else no throw
  (func (export "multi_catch") (param i32) (result i32)
    try (result i32)
      local.get 0
      i32.eqz
      if
        i32.const 5
        throw $e
      end
      local.get 0
      i32.const 1
      i32.eq
      if
        i32.const 6
        i64.const 7
        throw $e2
      end
      local.get 0
      i32.const 2
      i32.eq
      if
        throw $empty
      end
      i32.const 99
    catch $e
      i32.const 1000
      i32.add
    catch $e2
      i32.wrap_i64
      i32.add
      i32.const 2000
      i32.add
    catch_all
      i32.const 3000
    end)

  ;; the same tag twice: the first clause wins
  (func (export "dup_catch") (result i32)
    try (result i32)
      i32.const 1
      throw $e
    catch $e
      drop
      i32.const 10
    catch $e
      drop
      i32.const 20
    end)

  (func (export "catch_all_only") (param i32) (result i32)
    try (result i32)
      local.get 0
      call $throw
      i32.const 1
    catch_all
      i32.const 2
    end)

  ;; $empty is not $e: passes through
  (func (export "not_caught") (result i32)
    try (result i32)
      throw $empty
    catch $e
    end)

  ;; clause order with catch_all after a non-matching catch
  (func (export "catch_then_all") (param i32) (result i32)
    try (result i32)
      local.get 0
      if
        throw $empty
      end
      i32.const 3
      call $throw
      i32.const 0
    catch $e
      i32.const 10
      i32.add
    catch_all
      i32.const 20
    end)

  ;; try without any catch clause behaves as a block
  (func (export "try_no_catch") (param i32) (result i32)
    try (result i32)
      try (result i32)
        local.get 0
        local.get 0
        i32.eqz
        if
          i32.const 3
          throw $e
        end
      end
      i32.const 1
      i32.add
    catch $e
      i32.const 50
      i32.add
    end)

  ;; empty try body, void try with catches
  (func (export "void_try") (param i32) (result i32)
    (local i32)
    try
    catch_all
    end
    try
      local.get 0
      call $throw
    catch $e
      local.set 1
    catch_all
    end
    local.get 1)
)
