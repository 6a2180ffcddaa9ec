;; block parameters and multi-value tries, branches out of try bodies and
;; catch bodies, br_table, loops, return, the function label.
(module
  (tag $e (param i32))
  (tag $e2 (param i32 i32))
  (tag $e64 (param i64 f64))

  ;; try with parameters and two results
  (func (export "try_params") (param i32 i32) (result i32)
    (local i32 i32)
    local.get 0
    local.get 1
    try (param i32 i32) (result i32 i32)
      local.get 0
      i32.eqz
      if
        local.get 1
        i32.const 9
        throw $e2
      end
      i32.sub
      i32.const 7
    catch $e2
    end
    local.set 3
    local.set 2
    local.get 2
    i32.const 1000
    i32.mul
    local.get 3
    i32.add)

  ;; parameters, catch_all and a rethrow (so catch_all_ref + params)
  (func (export "try_params_rethrow") (param i32) (result i32)
    try (result i32)
      local.get 0
      try (param i32) (result i32)
        local.get 0
        i32.eqz
        if
          local.get 0
          throw $e
        end
        i32.const 1
        i32.add
      catch_all
        rethrow 0
      end
    catch $e
      i32.const 100
      i32.add
    end)

  (func (export "multi_value") (param i32) (result i32)
    (local i32)
    try (result i32 i32)
      local.get 0
      i32.const 2
      local.get 0
      i32.eqz
      if
        i32.const 8
        i32.const 9
        throw $e2
      end
    catch $e2
    catch_all
      i32.const -1
      i32.const -1
    end
    local.set 1
    i32.const 100
    i32.mul
    local.get 1
    i32.add)

  ;; a tag with i64 and f64 payload, caught with a rethrow in between
  (func (export "wide_payload") (param i32) (result i64)
    try (result i64)
      try (result i64)
        local.get 0
        i64.extend_i32_s
        f64.const 2.5
        throw $e64
      catch $e64
        drop
        drop
        rethrow 0
      end
    catch $e64
      i64.trunc_f64_s
      i64.add
    end)

  (func (export "br_out_body") (param i32) (result i32)
    block $out (result i32)
      try (result i32)
        i32.const 1
        local.get 0
        br_if $out
        drop
        i32.const 2
        throw $e
      catch $e
        i32.const 10
        i32.add
      end
      i32.const 100
      i32.add
    end)

  (func (export "br_out_catch") (param i32) (result i32)
    block $out (result i32)
      try (result i32)
        local.get 0
        throw $e
      catch $e
        local.get 0
        i32.const 5
        i32.gt_s
        br_if $out
        i32.const 1000
        i32.add
      end
      i32.const 1
      i32.add
    end)

  ;; branches to the try's own label from its body and its catch
  (func (export "br_try_label") (param i32) (result i32)
    try $t (result i32)
      i32.const 11
      local.get 0
      i32.const 1
      i32.eq
      br_if $t
      drop
      local.get 0
      throw $e
    catch $e
      i32.const 22
      local.get 0
      i32.const 2
      i32.eq
      br_if $t
      drop
      i32.const 33
      i32.add
    end)

  ;; br_table in a try body and in a catch body
  (func (export "br_table") (param i32 i32) (result i32)
    block $a (result i32)
      block $b (result i32)
        try $t (result i32)
          block $c (result i32)
            i32.const 7
            local.get 0
            br_table $c $t $b $a
          end
          throw $e
        catch $e
          i32.const 40
          i32.add
          local.get 1
          br_table $t $b $a
        end
        i32.const 1000
        i32.add
        br $a
      end
      i32.const 2000
      i32.add
    end)

  (func (export "loop_in_try") (param i32) (result i32)
    (local $i i32) (local $acc i32)
    try (result i32)
      loop $l
        local.get $acc
        local.get $i
        i32.add
        local.set $acc
        local.get $i
        i32.const 1
        i32.add
        local.tee $i
        local.get 0
        i32.eq
        if
          local.get $acc
          throw $e
        end
        br $l
      end
      unreachable
    catch $e
      local.set $acc
      i32.const 0
      local.set $i
      loop $m
        local.get $acc
        i32.const 1
        i32.add
        local.set $acc
        local.get $i
        i32.const 1
        i32.add
        local.tee $i
        i32.const 3
        i32.lt_s
        br_if $m
      end
      local.get $acc
    end)

  (func (export "try_in_loop") (param i32) (result i32)
    (local $i i32) (local $acc i32)
    loop $l
      try
        local.get $i
        i32.const 2
        i32.rem_u
        if
          local.get $i
          throw $e
        end
        local.get $acc
        i32.const 1
        i32.add
        local.set $acc
      catch $e
        local.get $acc
        i32.add
        local.set $acc
      end
      local.get $i
      i32.const 1
      i32.add
      local.tee $i
      local.get 0
      i32.lt_s
      br_if $l
    end
    local.get $acc)

  ;; continue a loop from inside a catch body
  (func (export "continue_from_catch") (param i32) (result i32)
    (local $i i32) (local $acc i32)
    loop $l
      local.get $i
      i32.const 1
      i32.add
      local.set $i
      try
        local.get $i
        throw $e
      catch $e
        local.get $acc
        i32.add
        local.set $acc
        local.get $i
        local.get 0
        i32.lt_s
        br_if $l
      end
    end
    local.get $acc)

  (func (export "return_from_catch") (param i32) (result i32)
    try
      local.get 0
      throw $e
    catch $e
      i32.const 1
      i32.add
      return
    end
    i32.const -1)

  (func (export "return_from_body") (param i32) (result i32)
    try
      try
        local.get 0
        return
      delegate 0
    catch_all
    end
    i32.const -1)

  ;; br to the function label next to a delegate to the caller
  (func (export "br_function_label") (param i32) (result i32)
    try
      try
        i32.const 42
        local.get 0
        br_if 2
        drop
        local.get 0
        i32.eqz
        if
          i32.const 3
          throw $e
        end
      delegate 1
    catch_all
    end
    i32.const 7)

  ;; if/else inside try and catch
  (func (export "if_else") (param i32) (result i32)
    try (result i32)
      local.get 0
      if (result i32)
        local.get 0
        throw $e
      else
        i32.const 1
      end
    catch $e
      if (result i32)
        i32.const 2
      else
        i32.const 3
      end
    end)
)
