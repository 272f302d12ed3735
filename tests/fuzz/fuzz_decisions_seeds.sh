#!/usr/bin/env bash
# fuzz_decisions_seeds.sh: writes the hand-made seeds of fuzz_decisions into
# corpus/fuzz_decisions/ (run it again after changing the opcodes of fuzz_decisions.lua;
# the inputs the fuzzer found, named by hash or regress_*, are kept as they are).
# A seed is a hook and a program, as decimal bytes; the names below are the opcodes and
# the indices into the lists of fuzz_decisions.lua.
set -euo pipefail
out="$(dirname "$0")/corpus/fuzz_decisions"
mkdir -p "$out"

# hooks (byte 0)
STATUS=0 VALIDATE=1 CUSTOMER=2 ROUTE=3 GL=4
# opcodes
NIL=0 TRUE=1 FALSE=2 NUM=3 INT=4 FLT=5 STR=6 FIELD=7 RAW=8 LONG=9 CAT=10 ANY=11 ARR=12
FLD=13 SHARED=14 META=15 ENV=16 CUST=17 FUNC=18 RAISE=19 TPL=20 SPLIT=21 LINE=22 I8=23 F8=24
# FIELDS
f_download=0 f_attention=1 f_reason=2 f_action=3 f_id=4 f_ref=5 f_key=6 f_group=7 f_name=8
f_branch=9 f_splits=10 f_lines=11 f_line=12 f_qty=13 f_distribution_branch=14 f_account=15
# STRS
s_Main=0 s_East=1 s_FBA=2 s_Sydny=3 s_empty=4 s_nul=5 s_Main_nul=6 s_Main_nul_East=7
s_4000=10 s_4000_nul=11 s_9999=12 s_Amazon=13 s_Amazon_nul=14 s_VIP=15 s_insert=16
s_update=17 s_keep=18 s_selected=19 s_merge=20 s_insert_nul=21 s_C1=22 s_C1_nul=23 s_C2=24
s_NOPE=25 s_newline=26 s_controls=27 s_del=28 s_format=29 s_bad_utf8=30 s_1=32 s_true=36
s_kv=40
# NUMS
n_nan=20 n_inf=22 n_2p53=15 n_2p53_2=16 n_mininteger=24 n_maxinteger=25 n_1p5=10 n_neg0=1
n_1e300=14 n_2p63=18 n_1_eps=29
# SIZES and CHARS of LONG
z_16k=4 z_1m=7 z_2m=9 c_x=0 c_nul=1 c_newline=2
# MMS and the behaviours of a metamethod
m_index=0 m_newindex=1 m_len=2 m_pairs=3 m_eq=4 m_lt=5 m_le=6 m_concat=7 m_call=8
m_tostring=9 m_name=10 m_mode=11 m_metatable=12 m_unm=13 m_add=14 m_close=15 m_gc=16
b_raise=0 b_loop=1 b_num=2 b_value=3 b_plain=4 b_raise_object=5 b_identity=6 b_deep_loop=7
# what ENV gives
e_ENV=0 e_order=1 e_settings=2 e_lines=8 e_raw=10

seed() {
    local name=$1; shift
    local f="$out/$name"
    : > "$f"
    for b in "$@"; do printf "\\$(printf %03o "$b")" >> "$f"; done
}

# one metamethod on hook h's template decision: [h META TPL 0 0 <1 metamethod> m b ...]
meta_on_template() {
    local name=$1 h=$2 m=$3; shift 3
    seed "$name" "$h" $META $TPL 0 0 0 "$m" "$@"
}

# -- valid decisions, and each one broken a little
seed status_template $STATUS $TPL 0 0
seed status_skip $STATUS $FLD 1 $f_download $FALSE
seed status_no_download $STATUS $FLD 1 $f_reason $STR $s_Main
seed status_download_string $STATUS $FLD 1 $f_download $STR $s_true
seed status_reason_nul $STATUS $TPL 0 1 $f_reason $STR $s_nul
seed status_reason_16k $STATUS $TPL 0 1 $f_reason $LONG $c_x $z_16k
seed status_reason_1m_newlines $STATUS $TPL 0 1 $f_reason $LONG $c_newline $z_1m
seed status_reason_2m $STATUS $TPL 0 1 $f_reason $LONG $c_x $z_2m
seed status_not_a_table $STATUS $STR $s_Main
seed validate_template $VALIDATE $TPL 0 0
seed validate_attention_only $VALIDATE $FLD 1 $f_attention $TRUE
seed validate_reason_controls $VALIDATE $TPL 0 1 $f_reason $STR $s_controls
seed validate_reason_raw_bytes $VALIDATE $TPL 0 1 $f_reason $RAW 6 0 10 13 27 255 34
seed validate_attention_number $VALIDATE $FLD 1 $f_attention $INT 5
seed customer_template $CUSTOMER $TPL 0 0
seed customer_insert_group $CUSTOMER $FLD 2 $f_action $STR $s_insert $f_group $STR $s_Amazon
seed customer_insert_group_nul $CUSTOMER $FLD 2 $f_action $STR $s_insert $f_group $STR $s_Amazon_nul
seed customer_insert_unknown_group $CUSTOMER $FLD 2 $f_action $STR $s_insert $f_group $STR $s_VIP
seed customer_insert_key_16k $CUSTOMER $FLD 2 $f_action $STR $s_insert $f_key $LONG $c_x $z_16k
seed customer_insert_name_format $CUSTOMER $FLD 3 $f_action $STR $s_insert $f_name $STR $s_format $f_key $STR $s_bad_utf8
seed customer_action_nul $CUSTOMER $FLD 1 $f_action $STR $s_insert_nul
seed customer_action_unknown $CUSTOMER $FLD 1 $f_action $STR $s_merge
seed customer_update_ref $CUSTOMER $FLD 2 $f_action $STR $s_update $f_ref $STR $s_C1
seed customer_selected_ref_c2 $CUSTOMER $FLD 2 $f_action $STR $s_selected $f_ref $STR $s_C2
seed customer_keep_ref_nul $CUSTOMER $FLD 2 $f_action $STR $s_keep $f_ref $STR $s_C1_nul
seed customer_keep_ref_unknown $CUSTOMER $FLD 2 $f_action $STR $s_keep $f_ref $STR $s_NOPE
seed customer_keep_unseen_id $CUSTOMER $FLD 2 $f_action $STR $s_keep $f_id $INT 16
seed customer_keep_looked_up_id $CUSTOMER $FLD 2 $f_action $STR $s_keep $f_id $CUST 1 1
seed customer_id_nan $CUSTOMER $TPL 0 1 $f_id $NUM $n_nan
seed customer_id_2p53_2 $CUSTOMER $TPL 0 1 $f_id $NUM $n_2p53_2
seed customer_id_mininteger $CUSTOMER $TPL 0 1 $f_id $NUM $n_mininteger
seed customer_id_1p5 $CUSTOMER $TPL 0 1 $f_id $NUM $n_1p5
seed customer_id_string $CUSTOMER $TPL 0 1 $f_id $STR $s_1
seed route_template $ROUTE $TPL 0 0
seed route_branch $ROUTE $FLD 1 $f_branch $STR $s_East
seed route_branch_nul $ROUTE $FLD 1 $f_branch $STR $s_Main_nul_East
seed route_branch_unknown $ROUTE $FLD 1 $f_branch $STR $s_Sydny
seed route_branch_and_splits $ROUTE $TPL 0 1 $f_branch $STR $s_Main
seed route_distribution_nul $ROUTE $TPL 0 1 $f_distribution_branch $STR $s_Main_nul
seed route_reason_16k $ROUTE $TPL 0 1 $f_reason $LONG $c_nul $z_16k
seed route_split_branch_nul $ROUTE $TPL 1 1 $f_branch $STR $s_Main_nul
seed route_split_no_lines $ROUTE $TPL 1 1 $f_lines $ARR 0
seed route_split_lines_string $ROUTE $TPL 1 1 $f_lines $STR $s_Main
seed route_line_nan $ROUTE $TPL 2 1 $f_line $NUM $n_nan
seed route_line_inf $ROUTE $TPL 2 1 $f_line $NUM $n_inf
seed route_line_2p63 $ROUTE $TPL 2 1 $f_line $NUM $n_2p63
seed route_line_maxinteger $ROUTE $TPL 2 1 $f_line $NUM $n_maxinteger
seed route_line_float_whole $ROUTE $TPL 2 1 $f_line $FLT 5
seed route_line_twice $ROUTE $TPL 2 1 $f_line $INT 6
seed route_qty_1_eps $ROUTE $TPL 2 1 $f_qty $NUM $n_1_eps
seed route_qty_neg0 $ROUTE $TPL 2 1 $f_qty $NUM $n_neg0
seed route_qty_1e300 $ROUTE $TPL 2 1 $f_qty $NUM $n_1e300
seed route_qty_i8_bytes $ROUTE $TPL 2 1 $f_qty $I8 1 0 0 0 0 0 0 128
seed route_qty_f8_bytes $ROUTE $TPL 2 1 $f_qty $F8 0 0 0 0 0 0 240 63
seed route_sum_short $ROUTE $TPL 3 1 $f_lines $ARR 1 $LINE $INT 5 $INT 7
seed route_four_splits $ROUTE $FLD 1 $f_splits $ARR 4 $SPLIT $STR $s_Main $ARR 1 $LINE $INT 5 $INT 5 \
    $SHARED 2 $SHARED 2 $SHARED 2
seed route_splits_cycle $ROUTE $FLD 1 $f_splits $ARR 1 $SHARED 0
seed route_split_self_lines $ROUTE $FLD 1 $f_splits $ARR 1 $SPLIT $STR $s_Main $SHARED 1
seed route_order_as_decision $ROUTE $ENV $e_order
seed route_env_as_decision $ROUTE $ENV $e_ENV
seed route_order_lines_as_lines $ROUTE $TPL 1 1 $f_lines $ENV $e_lines
seed route_any_keys $ROUTE $ANY 3 $NUM $n_nan $TRUE $FLT 5 $STR $s_Main $FIELD $f_branch $STR $s_FBA
seed gl_nil $GL
seed gl_account_string $GL $STR $s_4000
seed gl_account_string_nul $GL $STR $s_4000_nul
seed gl_account_string_unknown $GL $STR $s_9999
seed gl_template $GL $TPL 0 0
seed gl_account_nul $GL $TPL 0 1 $f_account $STR $s_4000_nul
seed gl_number $GL $NUM $n_2p53
seed gl_function $GL $FUNC 1
seed gl_cjson_null $GL $ENV 6
seed gl_raise_string $GL $RAISE $STR $s_controls 1
seed gl_raise_nil $GL $RAISE $NIL 0

# -- metamethods on a valid decision: C reads it raw, so none of them may run
meta_on_template mm_status_index_raise $STATUS $m_index $b_raise
meta_on_template mm_validate_index_loop $VALIDATE $m_index $b_loop
meta_on_template mm_customer_index_table $CUSTOMER $m_index $b_plain $FLD 1 $f_id $INT 15
meta_on_template mm_route_newindex_loop $ROUTE $m_newindex $b_loop
meta_on_template mm_gl_len_huge $GL $m_len $b_num $n_maxinteger
meta_on_template mm_status_pairs_raise $STATUS $m_pairs $b_raise_object
meta_on_template mm_validate_eq_loop $VALIDATE $m_eq $b_loop
meta_on_template mm_customer_lt_raise $CUSTOMER $m_lt $b_raise
meta_on_template mm_route_le_identity $ROUTE $m_le $b_identity
meta_on_template mm_gl_concat_loop $GL $m_concat $b_loop
meta_on_template mm_status_call_value $STATUS $m_call $b_value $STR $s_Main
meta_on_template mm_validate_tostring_loop $VALIDATE $m_tostring $b_loop
meta_on_template mm_customer_name_table $CUSTOMER $m_name $b_plain $ANY 0
meta_on_template mm_route_mode_kv $ROUTE $m_mode $b_plain $STR $s_kv
meta_on_template mm_gl_metatable_false $GL $m_metatable $b_plain $FALSE
meta_on_template mm_status_unm_deep_loop $STATUS $m_unm $b_deep_loop
meta_on_template mm_customer_add_raise $CUSTOMER $m_add $b_raise
meta_on_template mm_route_close_loop $ROUTE $m_close $b_loop
meta_on_template mm_gl_gc_refused $GL $m_gc $b_loop
# on the parts C walks: a split, its lines, one line, the splits list
seed mm_route_split_index_raise $ROUTE $FLD 1 $f_splits $ARR 1 $META $SPLIT $STR $s_Main $ARR 3 \
    $LINE $INT 5 $INT 6 $LINE $INT 6 $INT 5 $LINE $INT 7 $INT 7 0 $m_index $b_raise
seed mm_route_lines_len_huge $ROUTE $FLD 1 $f_splits $ARR 1 $SPLIT $STR $s_Main $META $ARR 0 \
    0 $m_len $b_num $n_maxinteger
seed mm_route_lines_index_loop $ROUTE $FLD 1 $f_splits $ARR 1 $SPLIT $STR $s_Main $META $ARR 0 \
    1 $m_index $b_loop $m_len $b_num 5
seed mm_route_line_index_qty $ROUTE $FLD 1 $f_splits $ARR 1 $SPLIT $STR $s_Main $ARR 1 \
    $META $LINE $INT 5 $NIL 0 $m_index $b_plain $FLD 1 $f_qty $INT 5
seed mm_route_splits_len_loop $ROUTE $FLD 1 $f_splits $META $ARR 0 0 $m_len $b_loop
# a decision whose error object loops in __tostring, and one that raises from __index
seed mm_route_raise_object_loop $ROUTE $RAISE $META $ANY 0 0 $m_tostring $b_loop 1
seed mm_validate_raise_object_raise $VALIDATE $RAISE $META $ANY 0 0 $m_tostring $b_raise 0
