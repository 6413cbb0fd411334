#!/bin/bash
# t7400: the registration form (issue 11 item 1).  eir create and eir set
# take the form's fields and eir show prints them (text and JSON); bad
# values are refused with a message and change nothing; an EIR without a
# form (what every EIR of a store written before forms is: no "form"
# setting) shows every field empty; eir import creates EIRs from a CSV
# with the form's Russian column titles, Kazakh and Russian text, a BOM,
# CRLF and RFC 4180 quoting, and they appear on the mount at once;
# --dry-run and a file with any bad row change nothing, and every error
# names its line and column; export -> import into a fresh store -> export
# gives the same bytes.
. "$(dirname "$0")/lib.sh"
setup

# no_eir NAME: the EIR does not exist.
no_eir() {
	assert_match "^enrpctl: no EIR named '$1'$" "$(ctl eir show "$1" 2>&1 >/dev/null | head -n1)" \
		"no EIR '$1'"
}

# --- create, set, show -------------------------------------------------------
mk_eir adilet --owner "$ALICE" --class 1 --full-name 'Біріңғай «Әділет» жүйесі, 2-кезек' \
	--os 'Astra Linux 1.7' --dbms 'PostgreSQL 15' --db-size-gb 120 --dump-size-gb '35,5' \
	--growth-gb 20 --cpus '2 x Xeon Gold 6230' --cpu-load-pct 45 --ram-gb 256 \
	--backup-tools 'pg_dump, rsync' --organisation 'АО «Қазақтелеком»' \
	--responsible 'Сәрсенбаев Ғалым' --phone '+7 727 250 00 00' \
	--schedule 'daily 23:00 incremental;monthly  first-fri 23:00 full' \
	--backup-type incremental --method copy --backup-mode hot
show=$(ctl eir show adilet)
assert_match '^full-name: Біріңғай «Әділет» жүйесі, 2-кезек$' "$(grep '^full-name:' <<<"$show")" "show: Kazakh full name"
assert_eq 'dump-size-gb: 35.5' "$(grep '^dump-size-gb:' <<<"$show")" "show: a decimal comma is stored as a point"
assert_eq 'schedule: daily 23:00 incremental; monthly first-fri 23:00 full' \
	"$(grep '^schedule:' <<<"$show")" "show: the schedule in canonical form"
assert_eq 'backup-mode: hot' "$(grep '^backup-mode:' <<<"$show")" "show: hot/cold"
json=$(ctl eir show adilet --json)
assert_eq 'АО «Қазақтелеком»|256|copy|None' "$("$PY" -c '
import json, sys; f = json.load(sys.stdin)["form"]
print(f["organisation"], f["ram_gb"], f["method"], f.get("nosuch"), sep="|")' <<<"$json")" \
	"show --json: the form object"

mk_eir plain --owner "$ALICE"
assert_eq 17 "$(ctl eir show plain | sed -n '/^full-name:/,$p' | grep -c ': -$')" \
	"an EIR without a form shows all 17 fields as '-'"
assert_eq True "$(ctl eir show plain --json | "$PY" -c '
import json, sys; print(all(v is None for v in json.load(sys.stdin)["form"].values()))')" \
	"... and null in JSON"

before=$(audit_count)
for bad in "--cpu-load-pct 101" "--db-size-gb 12GB" "--schedule daily-23:00" \
	"--backup-type weekly" "--method rsync" "--backup-mode warm"; do
	# shellcheck disable=SC2086
	out=$(ctl eir set adilet $bad 2>&1 >/dev/null)
	rc=$?
	assert_eq 2 "$rc" "eir set $bad: usage error"
	assert_match "^enrpctl: invalid ${bad%% *}: " "$(head -n1 <<<"$out")" "eir set $bad: names the option"
	assert_match '^hint: ' "$(sed -n 2p <<<"$out")" "eir set $bad: a hint"
done
assert_eq "$before" "$(audit_count)" "refused changes journal nothing"
form_of() { ctl eir show "$1" --json | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["form"])'; }
assert_eq "$("$PY" -c 'import json, sys; print(json.loads(sys.argv[1])["form"])' "$json")" \
	"$(form_of adilet)" "... and change nothing"

out=$(ctl eir set adilet --phone '+7 701 111 22 33' --backup-mode cold)
assert_match 'phone: \+7 727 250 00 00 -> \+7 701 111 22 33' "$out" "set prints old -> new"
assert_eq 'cold' "$(ctl eir show adilet --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["form"]["backup_mode"])')" \
	"set changed the field"
assert_match '"event": *"form-set"' "$(ctl audit show --json --eir adilet | "$PY" -c '
import json, sys; print(json.dumps(json.load(sys.stdin)[-1]))')" "set journals form-set"
assert_eq "EIR 'adilet' unchanged" "$(ctl eir set adilet --backup-mode cold)" "the same value: unchanged"

# --- import ------------------------------------------------------------------
mount_fs
H='Имя ЭИР,Учётная запись владельца,Полное наименование ЭИР,Класс ЭИР,Режим доступа,Срок хранения,Телефон,Загрузка ЦП (%),Расписание'
printf '\xef\xbb\xbf%s\r\n' "$H" >good.csv
printf '%s\r\n' \
	'kazpost,'"$ALICE"',"АО ""Қазпошта"", филиал",2,wo,"keep-daily=7,keep-monthly=12",+7 717 1,90,"weekly mon,thu 01:00 full"' \
	'egov,'"$BOB"':'"$TEAM"',Электронное правительство — ӘҒҚҢӨҰҮҺІ,1,rw,,,0,' \
	'' >>good.csv
before=$(audit_count)
out=$(ctl eir import --dry-run good.csv)
assert_match "would create EIR 'kazpost' \(line 2: owner $ALICE, class 2, mode wo\)" "$out" "dry-run lists kazpost"
assert_match "would create EIR 'egov' \(line 3" "$out" "dry-run lists egov"
j=$(ctl eir import --dry-run --json good.csv | "$PY" -c '
import json, sys
print(" ".join("%s:%d:%s:%d:%s:%s" % (e["name"], e["line"], e["owner"], e["class"], e["mode"], e["created"]) for e in json.load(sys.stdin)))')
assert_eq "kazpost:2:$ALICE:2:wo:False egov:3:$BOB:1:rw:False" "$j" "dry-run --json: each EIR with its line, not created"
no_eir kazpost
assert_eq "$before" "$(audit_count)" "dry-run journals nothing"

j=$(ctl eir import --json good.csv | "$PY" -c 'import json, sys; print(" ".join(e["name"] + ":" + str(e["created"]) for e in json.load(sys.stdin)))')
assert_eq "kazpost:True egov:True" "$j" "import --json: what was created"
assert_eq 'wo|2|АО "Қазпошта", филиал|keep-daily=7,keep-monthly=12|weekly mon,thu 01:00 full' \
	"$(ctl eir show kazpost --json | "$PY" -c '
import json, sys; e = json.load(sys.stdin)
print(e["mode"], e["class"], e["form"]["full_name"], e["retention"], e["form"]["schedule"], sep="|")')" \
	"import: mode, class, quoted full name, retention, schedule"
assert_eq "$BOB $TEAM" "$(stat -c '%U %G' "$MNT/egov")" "import: the EIR is on the mount with its owner"

# A file with many faults: each reported with line and column; nothing imported.
before=$(audit_count)
printf 'name,owner,db_size_gb,mode,agent\n' >bad.csv
printf '%s\n' 'new1,'"$ALICE"',12,rw,' 'new2,nosuchuser,abc,rw,' 'new1,'"$ALICE"',1,active,' \
	'kazpost,'"$ALICE"',1,rw,' 'new3,'"$ALICE"',1' >>bad.csv
out=$(ctl eir import bad.csv 2>&1 >/dev/null)
rc=$?
assert_eq 1 "$rc" "a bad file: exit 1"
assert_match "^enrpctl: bad.csv:3: column 2 \(owner\): no user named 'nosuchuser'$" "$out" "unknown owner: line 3, column 2"
assert_match "^enrpctl: bad.csv:3: column 3 \(db_size_gb\): 'abc' is not a number" "$out" "bad number: line 3, column 3"
assert_match "^enrpctl: bad.csv:4: EIR 'new1' is named on line 2 already$" "$out" "duplicate in the file"
assert_match "^enrpctl: bad.csv:4: column 4 \(mode\): an active EIR needs a replication agent" "$out" "active without agent"
assert_match "^enrpctl: bad.csv:5: EIR 'kazpost' already exists in the store$" "$out" "name taken in the store"
assert_match "^enrpctl: bad.csv:6: 3 fields, but the header has 5$" "$out" "short row"
assert_match "^hint: fix the 6 problem\(s\) above; nothing was imported$" "$out" "the hint counts them"
no_eir new1
assert_eq "$before" "$(audit_count)" "a bad file journals nothing"

printf 'name,owner\nok1,%s\n"broken,%s\nx\n' "$ALICE" "$ALICE" >syntax.csv
out=$(ctl eir import syntax.csv 2>&1 >/dev/null)
assert_match "^enrpctl: syntax.csv:3:1: quoted field not closed$" "$out" "unclosed quote: line 3, column 1"
printf 'name,owner\nok1,ал\xffма\n' >utf.csv
out=$(ctl eir import utf.csv 2>&1 >/dev/null)
assert_match "^enrpctl: utf.csv:2:7: invalid UTF-8" "$out" "invalid UTF-8: line 2, column 7 (characters)"
printf 'name,owner,colour\n' >hdr.csv
out=$(ctl eir import hdr.csv 2>&1 >/dev/null)
assert_match "^enrpctl: hdr.csv:1: column 3: unknown column 'colour'$" "$out" "unknown column"
no_eir ok1

# --- export round trip ---------------------------------------------------------
ctl eir export >a.csv || fail "export"
assert_eq "$(head -n1 a.csv | tr -d '\r')" \
	"name,full_name,os,dbms,db_size_gb,dump_size_gb,growth_gb,cpus,cpu_load_pct,ram_gb,backup_tools,organisation,responsible,phone,schedule,backup_type,method,backup_mode,class,mode,retention,owner,agent,quota" \
	"export: the header"
assert_eq 5 "$(grep -c $'\r$' a.csv)" "export: a header and 4 EIRs, CRLF"
STORE2=$T/store2
EXTRA_STORES+=("$STORE2")
ctl_nostore init --mirror none "$STORE2" >/dev/null || die "init store2"
expect_ok ctl_nostore -S "$STORE2" eir import a.csv
ctl_nostore -S "$STORE2" eir export >b.csv
assert_eq "$(sha a.csv)" "$(sha b.csv)" "export -> import -> export: identical bytes"
ctl eir export egov adilet >c.csv
assert_eq "adilet egov" "$(tail -n +2 c.csv | cut -d, -f1 | tr '\n' ' ' | sed 's/ $//')" "export NAME...: only those"
assert_match "^enrpctl: no EIR named 'nosuch'$" "$(ctl eir export nosuch 2>&1 >/dev/null | head -n1)" \
	"export of an unknown EIR: an error"

# Kazakh titles name the columns as the Russian ones do.
printf '%s\n' 'ЭАР аты,Иесінің тіркелгісі,ЭАР толық атауы,ЭАР сыныбы,Қол жеткізу режимі' \
	"kzgov,$ALICE,Мемлекеттік қызметтер порталы,2,wo" >kk.csv
expect_ok ctl eir import kk.csv
assert_eq 'Мемлекеттік қызметтер порталы|2|wo' "$(ctl eir show kzgov --json | "$PY" -c '
import json, sys; e = json.load(sys.stdin); print(e["form"]["full_name"], e["class"], e["mode"], sep="|")')" \
	"Kazakh column titles: full name, class and mode imported"

finish
