;; delegate: to an enclosing try, to a block label, to the caller, out of
;; a catch body, chains of delegates, to a try without catches.
(module
  (tag $e (param i32))

  ;; C delegates past B's handlers to A
  (func (export "delegate_outer") (param i32) (result i32)
    try (result i32)
      try (result i32)
        try (result i32)
          local.get 0
          throw $e
        delegate 1
      catch $e
        i32.const 100
        i32.add
      end
    catch $e
      i32.const 200
      i32.add
    end)

  (func (export "delegate_natural") (param i32) (result i32)
    try (result i32)
      try (result i32)
        local.get 0
        throw $e
      delegate 0
    catch $e
      i32.const 1
      i32.add
    end)

  ;; delegate to a block: the nearest try outside the block (A) handles it
  (func (export "delegate_block") (param i32) (result i32)
    try (result i32)
      block (result i32)
        try (result i32)
          block (result i32)
            try (result i32)
              local.get 0
              throw $e
            delegate 2
          end
        catch $e
          i32.const 100
          i32.add
        end
      end
    catch $e
      i32.const 300
      i32.add
    end)

  ;; delegate to a block that is inside the catching try's body
  (func (export "delegate_inner_block") (param i32) (result i32)
    try (result i32)
      block (result i32)
        try (result i32)
          local.get 0
          throw $e
        delegate 0
      end
    catch $e
      i32.const 350
      i32.add
    end)

  (func $deleg_caller (param i32) (result i32)
    try (result i32)
      try (result i32)
        local.get 0
        throw $e
      delegate 1
    catch $e
      i32.const 100
      i32.add
    end)

  (func (export "delegate_caller") (param i32) (result i32)
    try (result i32)
      local.get 0
      call $deleg_caller
    catch $e
      i32.const 400
      i32.add
    end)

  (func (export "delegate_caller_uncaught") (param i32) (result i32)
    local.get 0
    call $deleg_caller)

  ;; delegate 0 names B, but we are in B's catch: A handles it
  (func (export "delegate_from_catch") (param i32) (result i32)
    try (result i32)
      try (result i32)
        i32.const 1
        throw $e
      catch $e
        drop
        try (result i32)
          local.get 0
          throw $e
        delegate 0
      end
    catch $e
      i32.const 500
      i32.add
    end)

  ;; E delegates to C (a delegate itself) which delegates to A
  (func (export "delegate_chain") (param i32) (result i32)
    try (result i32)
      try (result i32)
        try (result i32)
          try (result i32)
            try (result i32)
              local.get 0
              throw $e
            delegate 1
          catch $e
            i32.const 10000
            i32.add
          end
        delegate 1
      catch $e
        i32.const 20000
        i32.add
      end
    catch $e
      i32.const 600
      i32.add
    end)

  (func (export "delegate_no_throw") (param i32) (result i32)
    try (result i32)
      try (result i32)
        local.get 0
      delegate 0
    catch_all
      i32.const -1
    end)

  ;; delegate to a try without catches: goes on to A
  (func (export "delegate_plain_try") (param i32) (result i32)
    try (result i32)
      try (result i32)
        try (result i32)
          try (result i32)
            local.get 0
            throw $e
          delegate 1
        catch $e
          i32.const 100
          i32.add
        end
      end
    catch $e
      i32.const 700
      i32.add
    end)

  ;; no enclosing try at all
  (func (export "delegate_top") (param i32) (result i32)
    try (result i32)
      local.get 0
      throw $e
    delegate 0)

  ;; the delegating try's body has its own try/catch that handles first
  (func (export "delegate_inner_catch") (param i32) (result i32)
    try (result i32)
      try (result i32)
        try (result i32)
          try (result i32)
            local.get 0
            throw $e
          catch $e
            i32.const 800
            i32.add
            throw $e
          end
        delegate 1
      catch $e
        i32.const 100000
        i32.add
      end
    catch $e
      i32.const 1
      i32.add
    end)

  ;; a try that is both catching and the target of a delegate, with rethrow
  (func (export "delegate_target_rethrow") (param i32) (result i32)
    try (result i32)
      try (result i32)
        try (result i32)
          try (result i32)
            local.get 0
            throw $e
          delegate 1
        catch_all
          i32.const -100
        end
      catch $e
        drop
        rethrow 0
      end
    catch $e
      i32.const 900
      i32.add
    end)

  ;; delegate to caller from inside a catch body, with an outer try around
  (func $catch_then_delegate (param i32) (result i32)
    try (result i32)
      try (result i32)
        i32.const 0
        throw $e
      catch $e
        try (result i32)
          local.get 0
          throw $e
        delegate 2
        i32.add
      end
    catch_all
      i32.const -1
    end)

  (func (export "delegate_caller_from_catch") (param i32) (result i32)
    try (result i32)
      local.get 0
      call $catch_then_delegate
    catch $e
      i32.const 1000
      i32.add
    end)

  ;; the target is itself a delegate that needs no try_table (natural):
  ;; a plain block holding a $dt block
  (func (export "delegate_to_natural") (param i32) (result i32)
    try (result i32)
      try (result i32)
        try (result i32)
          try (result i32)
            local.get 0
            throw $e
          delegate 1
        catch $e
          i32.const 100
          i32.add
        end
      delegate 0
    catch $e
      i32.const 1100
      i32.add
    end)

  ;; delegate targets with block parameters
  (func (export "delegate_params") (param i32) (result i32)
    local.get 0
    try (param i32) (result i32)
      try (param i32) (result i32)
        try (param i32) (result i32)
          throw $e
        delegate 1
      catch $e
        i32.const 100
        i32.add
      end
    catch $e
      i32.const 1200
      i32.add
    end)
)
