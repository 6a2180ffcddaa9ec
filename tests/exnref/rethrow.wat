;; rethrow from catch and catch_all, to outer tries from nested catches,
;; from inside nested try bodies.
(module
  (tag $e (param i32))
  (tag $f (param i32))

  (func (export "rethrow_catch") (param i32) (result i32)
    try (result i32)
      try (result i32)
        local.get 0
        throw $e
      catch $e
        drop
        rethrow 0
      end
    catch $e
      i32.const 1
      i32.add
    end)

  (func (export "rethrow_catch_all") (param i32) (result i32)
    try (result i32)
      try (result i32)
        local.get 0
        throw $e
      catch_all
        rethrow 0
      end
    catch $e
      i32.const 2
      i32.add
    end)

  ;; in A's catch, B catches $f and rethrows A's exception ($e)
  (func (export "rethrow_outer") (param i32) (result i32)
    try (result i32)
      try (result i32)
        local.get 0
        throw $e
      catch $e
        drop
        try (result i32)
          i32.const 77
          throw $f
        catch $f
          drop
          rethrow 1
        end
      end
    catch $e
      i32.const 3
      i32.add
    catch $f
      i32.const 1000
      i32.add
    end)

  ;; a rethrow inside a nested try body is caught by that try
  (func (export "rethrow_in_try_body") (param i32) (result i32)
    try (result i32)
      local.get 0
      throw $e
    catch $e
      drop
      try (result i32)
        rethrow 1
      catch $e
        i32.const 4
        i32.add
      end
    end)

  ;; two sibling tries at the same catch level
  (func (export "rethrow_siblings") (param i32) (result i32)
    (local i32)
    try
      try
        i32.const 10
        throw $e
      catch $e
        local.set 1
      end
      try
        local.get 0
        throw $f
      catch_all
        rethrow 0
      end
    catch $f
      local.get 1
      i32.add
      local.set 1
    end
    local.get 1)

  ;; three catch levels, the innermost rethrows the outermost's exception
  (func (export "rethrow_levels") (param i32) (result i32)
    try (result i32)
      try (result i32)
        local.get 0
        throw $e
      catch $e
        drop
        try (result i32)
          i32.const 1
          throw $f
        catch $f
          drop
          try (result i32)
            i32.const 2
            throw $f
          catch_all
            rethrow 2
          end
        end
      end
    catch $e
      i32.const 5
      i32.add
    catch $f
      i32.const 1000
      i32.add
    end)

  ;; rethrow of a middle level after an inner catch (one level deeper) finished
  (func (export "rethrow_middle") (param i32) (result i32)
    try (result i32)
      try (result i32)
        i32.const 1
        throw $e
      catch $e
        drop
        try (result i32)
          local.get 0
          throw $f
        catch $f
          drop
          try (result i32)
            i32.const 2
            throw $e
          catch $e
          end
          drop
          rethrow 0
        end
      end
    catch $e
      i32.const 1000
      i32.add
    catch $f
      i32.const 6
      i32.add
    end)

  ;; rethrow escaping to the caller
  (func (export "rethrow_uncaught") (param i32) (result i32)
    try (result i32)
      local.get 0
      throw $e
    catch_all
      rethrow 0
    end)
;; a nested catch that keeps its own exnref must not clobber the outer one
  (func (export "rethrow_clobber") (param i32) (result i32)
    try (result i32)
      try (result i32)
        local.get 0
        throw $e
      catch $e
        drop
        try (result i32)
          try (result i32)
            i32.const 50
            throw $f
          catch $f
            drop
            rethrow 0
          end
        catch $f
        end
        drop
        rethrow 0
      end
    catch $e
      i32.const 12
      i32.add
    catch $f
      i32.const 1000
      i32.add
    end)
)
