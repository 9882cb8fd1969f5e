# shellcheck shell=bash
# The booking API's contract test: schemathesis (PyPI, installed by
# ensure_python_test_deps into target/pyenv) generates requests from the served OpenAPI
# document and checks that no answer is a 5xx and every answer matches the document
# (status codes, content types, schemas). Source scripts/lib/deps.sh first.
#
#   run_contract BIN LOG      "PASSED FAILED" on the last line of stdout (one test)
#
# Haven runs from BIN on a free loopback port with a throwaway SQLite database, one
# organisation, a clinic, a clinician and an API key made with `haven admin`; it is
# stopped afterwards. A copy of the served document pins what the document cannot say
# about this database and this day (that clinic, that clinician or none, no co-hosts, a
# start tomorrow, adult dates of birth), so that generated bookings succeed, groups
# included, and the links to reading and cancelling them are followed. The run fails if
# no booking succeeded, no group booking succeeded, or none was then read or cancelled.

contract_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The number of successful (2xx) answers the server logged (without colours) to METHOD on
# ROUTE.
contract_answers() {
	local server_log=$1 method=$2 route=$3
	grep -cF "method=$method route=$route status=2" "$server_log" || true
}

# What the SQL QUERY (one number) counts in the SQLite database at PATH; 0 if it cannot.
contract_count() {
	"$HAVEN_TEST_PYTHON" -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$1" "$2" || echo 0
}

run_contract() {
	local bin=$1 log=$2 dir port key clinic clinician pid status=0 booked groups read_ok cancelled
	local st=${HAVEN_TEST_PYTHON%/python}/schemathesis
	if [[ ! -x $st ]]; then
		echo "schemathesis is not installed (ensure_python_test_deps failed)" >>"$log"
		echo "0 1"
		return
	fi
	dir=$(mktemp -d)
	export HAVEN_DATABASE_URL="sqlite://$dir/haven.db?mode=rwc"
	if ! "$bin" admin org create --name "Contract Test" >>"$log" 2>&1 ||
		! key=$("$bin" admin api-key create --org "Contract Test" --name schemathesis 2>>"$log") ||
		! clinic=$("$bin" admin clinic create --org "Contract Test" --name "Contract clinic" 2>>"$log") ||
		! clinician=$(head -c 18 /dev/urandom | base64 | tr -d '/+=' | "$bin" admin user add --org "Contract Test" \
			--email clinician@contract.example.org --name "Contract Clinician" --role clinician --password-stdin 2>>"$log"); then
		echo "could not prepare the database" >>"$log"
		rm -rf "$dir"
		unset HAVEN_DATABASE_URL
		echo "0 1"
		return
	fi
	port=$(contract_port)
	# The server's own log, kept apart to count the answers it gave, joins LOG at the end.
	"$bin" serve --listen "127.0.0.1:$port" --media-port 0 >"$dir/server.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
		sleep 0.1
	done
	if ! curl -fs "http://127.0.0.1:$port/api/v1/openapi.json" -o "$dir/openapi.json" ||
		! "$HAVEN_TEST_PYTHON" - "$dir/openapi.json" "$clinic" "$clinician" <<-'PY' >>"$log" 2>&1; then
			import datetime, json, sys
			path, clinic, clinician = sys.argv[1], sys.argv[2], sys.argv[3]
			with open(path) as f:
			    doc = json.load(f)
			schemas = doc["components"]["schemas"]
			booking = schemas["NewConsultation"]["properties"]
			booking["clinic_id"]["enum"] = [clinic]
			# The organisation's one clinician, or none (a group needs its host). Co-hosts
			# must be clinicians of the clinic, and `haven admin` puts nobody in a clinic.
			booking["clinician_id"]["enum"] = [clinician, None]
			booking["cohost_ids"]["maxItems"] = 0
			# Times in the past and dates of birth in the future or over 130 years ago are
			# refused, and under 16 depends on the day: rules about today that a static
			# document cannot state.
			tomorrow = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
			booking["starts_at"]["enum"] = [tomorrow.strftime("%Y-%m-%dT%H:%M:00Z")]
			for person in ("NewPatient", "NewAttendee"):
			    schemas[person]["properties"]["date_of_birth"]["enum"] = ["1984-05-17", "1950-12-01"]
			with open(path, "w") as f:
			    json.dump(doc, f)
		PY
		echo "could not read the served OpenAPI document" >>"$log"
		status=1
	fi
	# Deterministic generation keeps the run the same every time; the checks are the
	# issue's: no server errors, and answers as documented.
	# From the throwaway folder, where schemathesis keeps its own files.
	[[ $status -ne 0 ]] || (cd "$dir" && "$st" run openapi.json --url "http://127.0.0.1:$port" \
		-H "Authorization: Bearer $key" \
		-c not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
		-n 100 --generation-deterministic) >>"$log" 2>&1 || status=$?
	booked=$(contract_count "$dir/haven.db" "SELECT COUNT(*) FROM consultations" 2>>"$log")
	groups=$(contract_count "$dir/haven.db" "SELECT COUNT(*) FROM consultations WHERE kind = 'group'" 2>>"$log")
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	sed 's/\x1b\[[0-9;]*m//g' "$dir/server.log" >"$dir/server.txt"
	cat "$dir/server.txt" >>"$log"
	read_ok=$(contract_answers "$dir/server.txt" GET '/api/v1/consultations/{id}')
	cancelled=$(contract_answers "$dir/server.txt" POST '/api/v1/consultations/{id}/cancel')
	echo "bookings made by the contract test: $booked (groups: $groups); bookings read: $read_ok; cancelled: $cancelled" >>"$log"
	# Without a booking the links to reading and cancelling are never followed, and the
	# run would check refusals only.
	if [[ ${booked:-0} -eq 0 ]]; then
		echo "schemathesis made no successful booking" >>"$log"
		status=1
	elif [[ ${groups:-0} -eq 0 ]]; then
		echo "schemathesis made no successful group booking" >>"$log"
		status=1
	elif [[ $read_ok -eq 0 || $cancelled -eq 0 ]]; then
		echo "schemathesis did not follow the links from a booking to reading and cancelling it" >>"$log"
		status=1
	fi
	rm -rf "$dir"
	unset HAVEN_DATABASE_URL
	if [[ $status -eq 0 ]]; then echo "1 0"; else echo "0 1"; fi
}
