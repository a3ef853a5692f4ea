#!/usr/bin/env bash
# Images from registries: gantry and the docker CLI (through gantryd) push, pull, login against real
# Debian docker-registry instances on 127.0.0.1 started here: open over HTTP, htpasswd basic auth
# over TLS with client certificates (a CA made with openssl, certs.d given by --certs-dir), and
# token auth (tests/integration/registry_token_server.py). skopeo reads and writes the same images.
# Test functions are called through t_run (SC2317).
# shellcheck disable=SC2317
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/../lib.sh"
# shellcheck source=tests/gantryd_lib.sh
. "$here/../gantryd_lib.sh"
T_TIMEOUT=${T_TIMEOUT:-120}
GANTRY=${GANTRY:-/usr/local/bin/gantry}
PY=/usr/bin/python3

for bin in docker-registry openssl skopeo; do
	command -v "$bin" >/dev/null || { t_skip registry "$bin not installed (scripts/install-deps.sh)"; t_summary; }
done
"$PY" -c 'import bcrypt, cryptography' 2>/dev/null || { t_skip registry "python3-bcrypt/python3-cryptography missing"; t_summary; }

RT=$(mktemp -d /tmp/gantry-registry.XXXXXX)
t_defer "rm -rf '$RT'"
CERTS=$RT/certs.d

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# reg_start NAME PORT [extra YAML for the top level]: a registry with its own config and storage.
# ACCESSLOG=1: its log ($RT/NAME/log) lists every request ("PATCH /v2/... HTTP/1.1" 202 ...).
reg_start() {
	local name=$1 port=$2 extra=${3:-} nolog=true
	[[ ${ACCESSLOG:-0} == 1 ]] && nolog=false
	mkdir -p "$RT/$name/data"
	cat > "$RT/$name/config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: $nolog
storage:
  filesystem:
    rootdirectory: $RT/$name/data
  delete:
    enabled: true
$extra
EOF
	docker-registry serve "$RT/$name/config.yml" > "$RT/$name/log" 2>&1 </dev/null &
	local pid=$!
	t_defer "t_kill_pid $pid 10"
	local i
	for ((i = 0; i < 100; i++)); do
		if curl -sk --max-time 1 -o /dev/null "http://127.0.0.1:$port/v2/" ||
			curl -sk --max-time 1 -o /dev/null "https://127.0.0.1:$port/v2/"; then
			return 0
		fi
		t_alive "$pid" || break
		sleep 0.1
	done
	cat "$RT/$name/log" >&2
	return 1
}

# A CA, a server certificate for 127.0.0.1 and localhost, a client certificate.
make_certs() {
	local d=$RT/pki
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=gantry-test-ca \
		-keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$d/server.key" \
		-out "$d/server.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$d/ext"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
		-days 2 -extfile "$d/ext" -out "$d/server.crt" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj /CN=gantry-client -keyout "$d/client.key" \
		-out "$d/client.csr" 2>/dev/null
	openssl x509 -req -in "$d/client.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
		-days 2 -out "$d/client.cert" 2>/dev/null
	# The token signer: a self-signed certificate the registry trusts as its root bundle.
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=gantry-token \
		-keyout "$d/token.key" -out "$d/token.crt" 2>/dev/null
}

make_certs
P_OPEN=$(free_port)
P_TLS=$(free_port)
P_TOK=$(free_port)
"$PY" -c 'import bcrypt,sys; print("alice:" + bcrypt.hashpw(b"s3cret", bcrypt.gensalt(rounds=5)).decode())' > "$RT/htpasswd"
mkdir -p "$CERTS/127.0.0.1:$P_TLS"
cp "$RT/pki/ca.crt" "$RT/pki/client.cert" "$RT/pki/client.key" "$CERTS/127.0.0.1:$P_TLS/"

"$PY" "$here/registry_token_server.py" "$RT/pki/token.key" "$RT/pki/token.crt" bob hunter2 \
	gantry-issuer "$RT/token.port" 2> "$RT/token.log" &
tok_pid=$!
t_defer "t_kill_pid $tok_pid 10"
for ((i = 0; i < 100; i++)); do [[ -s $RT/token.port ]] && break; sleep 0.1; done
P_TOKSRV=$(cat "$RT/token.port" 2>/dev/null)

ok=1
ACCESSLOG=1 reg_start open "$P_OPEN" "http:
  addr: 127.0.0.1:$P_OPEN" || ok=0
reg_start tls "$P_TLS" "http:
  addr: 127.0.0.1:$P_TLS
  tls:
    certificate: $RT/pki/server.crt
    key: $RT/pki/server.key
    clientcas:
      - $RT/pki/ca.crt
auth:
  htpasswd:
    realm: gantry-test
    path: $RT/htpasswd" || ok=0
reg_start token "$P_TOK" "http:
  addr: 127.0.0.1:$P_TOK
auth:
  token:
    realm: http://127.0.0.1:$P_TOKSRV/token
    service: gantry-registry
    issuer: gantry-issuer
    rootcertbundle: $RT/pki/token.crt" || ok=0
if [[ $ok -eq 1 && -n $P_TOKSRV ]]; then t_ok registries_start; else t_fail registries_start "a registry did not start (log above)"; t_summary; fi

# docker.io goes to the open registry, as a mirror (no test reaches the real Docker Hub).
GANTRYD_ARGS="--certs-dir $CERTS --registry-mirror http://127.0.0.1:$P_OPEN" start_daemon
gantryd_state=$(e2e_state)
dk load -i "$(e2e_busybox_tar)" >/dev/null
export GANTRY_HOST=$DOCKER_HOST
g() { timeout -k 5 60 "$GANTRY" "$@"; }
rc_out() {
	local rc=0 out
	out=$("$@" 2>&1) || rc=$?
	printf 'rc=%s\n%s\n' "$rc" "$out"
}
# Every name of the busybox image goes (a cold pull); a pulled copy is tagged busybox again after.
forget_busybox() { dk rmi -f "$(dk inspect -f '{{.Id}}' busybox)" >/dev/null; }
O=127.0.0.1:$P_OPEN
S=127.0.0.1:$P_TLS
K=127.0.0.1:$P_TOK

test_push_pull_run() {
	g tag busybox "$O/t/bb:1"
	local out digest
	out=$(g push "$O/t/bb:1")
	assert_contains "$out" "The push refers to repository [$O/t/bb]" "push names the repository"
	assert_contains "$out" ": Pushed" "the layer was uploaded"
	digest=$(sed -n 's/^1: digest: \(sha256:[0-9a-f]\{64\}\) size: [0-9]*$/\1/p' <<<"$out")
	[[ -n $digest ]] || { t__fail_msg "no '1: digest: sha256:... size: N' line in: $out"; return 1; }
	echo "$digest" > "$RT/digest"
	# The registry's own view: the manifest under that digest, fetched with curl.
	local got
	got=$(curl -sf -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		"http://$O/v2/t/bb/manifests/1" | sha256sum | cut -d' ' -f1)
	assert_eq "sha256:$got" "$digest" "the printed digest is the registry's manifest digest"
	assert_contains "$(g push "$O/t/bb:1")" "Layer already exists" "a second push uploads nothing"
	forget_busybox
	out=$(g pull "$O/t/bb:1")
	g tag "$O/t/bb:1" busybox
	assert_contains "$out" "Pull complete" "the layer was downloaded and unpacked"
	assert_contains "$out" "Digest: $digest" "pull prints the same digest"
	assert_contains "$out" "Status: " "pull ends with its status"
	assert_eq "$(g run --rm "$O/t/bb:1" echo pulled-runs)" "pulled-runs" "the pulled image runs"
	assert_contains "$(dk inspect -f '{{json .RepoDigests}}' "$O/t/bb:1")" "$O/t/bb@$digest" "RepoDigests"
	assert_contains "$(g pull "$O/t/bb:1")" "Image is up to date for $O/t/bb:1" "a second pull: up to date"
}

test_pull_by_digest() {
	local digest
	digest=$(cat "$RT/digest")
	forget_busybox
	local out
	out=$(g pull "$O/t/bb@$digest")
	assert_contains "$out" "Digest: $digest" "pull by digest"
	assert_eq "$(dk inspect -f '{{json .RepoTags}}' "$O/t/bb@$digest")" "[]" "a digest pull adds no tag"
	assert_contains "$(dk images --digests --format '{{.Repository}} {{.Digest}}')" "$O/t/bb $digest" \
		"images --digests lists it"
	assert_eq "$(g run --rm "$O/t/bb@$digest" echo by-digest)" "by-digest" "it runs by digest"
	local bad=sha256:0000000000000000000000000000000000000000000000000000000000000000
	assert_contains "$(rc_out g pull "$O/t/bb@$bad")" "rc=1" "an unknown digest fails"
	g tag "$O/t/bb@$digest" busybox
	g rmi "$O/t/bb@$digest" >/dev/null
	assert_eq "$(g run --rm busybox echo still-here)" "still-here" "untagging the digest keeps the tagged image"
}

test_mount_and_errors() {
	g tag busybox "$O/t/bb:2"
	g push "$O/t/bb:2" >/dev/null
	g tag busybox "$O/other/copy:1"
	assert_contains "$(g push "$O/other/copy:1")" "Mounted from t/bb" "cross-repository mount"
	local out
	out=$(rc_out g pull "$O/t/bb:nope")
	assert_contains "$out" "rc=1" "missing tag: exit 1"
	assert_contains "$out" "manifest for $O/t/bb:nope not found: manifest unknown" "missing tag: docker's words"
	out=$(rc_out g push "$O/t/never:1")
	assert_contains "$out" "An image does not exist locally with the tag: $O/t/never" "push of an unknown image"
	assert_contains "$(g search "$O/bb")" "$O/t/bb" "search through the catalog"
}

test_docker_cli() {
	dk tag busybox "$O/cli/bb:1"
	local out
	out=$(dk push "$O/cli/bb:1")
	assert_contains "$out" "1: digest: sha256:" "docker push through gantryd"
	dk rmi "$O/cli/bb:1" >/dev/null
	out=$(dk pull "$O/cli/bb:1")
	assert_contains "$out" "Digest: sha256:" "docker pull through gantryd"
	assert_eq "$(dk run --rm "$O/cli/bb:1" echo via-docker)" "via-docker" "and it runs"
	assert_contains "$(rc_out dk pull "$O/cli/none:1")" "manifest unknown" "docker pull of a missing image"
}

test_skopeo_interop() {
	# An image written by skopeo (from the docker archive) is pulled by gantry and runs.
	skopeo copy -q --dest-tls-verify=false "docker-archive:$(e2e_busybox_tar)" "docker://$O/sk/bb:1"
	g pull "$O/sk/bb:1" >/dev/null
	assert_eq "$(g run --rm "$O/sk/bb:1" echo from-skopeo)" "from-skopeo" "skopeo-pushed image runs"
	# An image pushed by gantry is read back by skopeo: same digest, its layers copied.
	local digest sk
	digest=$(cat "$RT/digest")
	sk=$(skopeo inspect --tls-verify=false "docker://$O/t/bb:1" | jq -r .Digest)
	assert_eq "$sk" "$digest" "skopeo sees the digest gantry printed"
	skopeo copy -q --src-tls-verify=false "docker://$O/t/bb:1" "oci:$RT/oci-out:bb"
	assert_eq "$(jq -r '.manifests | length' "$RT/oci-out/index.json")" "1" "skopeo copied it out"
}

# An image gantry pushed, written by skopeo as an oci-archive, loaded back into gantry and run.
test_oci_archive_back() {
	skopeo copy -q --src-tls-verify=false "docker://$O/t/bb:1" "oci-archive:$RT/bb-oci.tar:ociback:1"
	forget_busybox
	assert_eq "$(dk images -q ociback)" "" "not there before the load"
	assert_contains "$(dk load -i "$RT/bb-oci.tar")" "Loaded image: ociback:1" "the oci-archive loads"
	assert_eq "$(g run --rm ociback:1 echo from-oci-archive)" "from-oci-archive" "and runs"
	g tag ociback:1 busybox
	g rmi ociback:1 >/dev/null
}

# Layers skopeo compressed with zstd (an OCI manifest with a tar+zstd layer), pulled and run. The
# new layer is random: skopeo 1.9 reuses a gzip copy the registry already has of a known one.
test_zstd_pull() {
	dk run --name mkz busybox sh -c 'head -c 300000 /dev/urandom > /z' >/dev/null
	dk commit mkz zs:1 >/dev/null
	dk rm mkz >/dev/null
	local sum
	sum=$(g run --rm zs:1 sha256sum /z | cut -d' ' -f1)
	dk save -o "$RT/zs.tar" zs:1
	skopeo copy -q --dest-tls-verify=false --format oci --dest-compress-format zstd \
		"docker-archive:$RT/zs.tar" "docker://$O/zstd/bb:1"
	assert_eq "$(skopeo inspect --raw --tls-verify=false "docker://$O/zstd/bb:1" | jq -r '.layers[-1].mediaType')" \
		"application/vnd.oci.image.layer.v1.tar+zstd" "the registry holds the layer as zstd"
	dk rmi zs:1 >/dev/null
	forget_busybox
	local out
	out=$(g pull "$O/zstd/bb:1")
	assert_contains "$out" "Pull complete" "the layers are downloaded and unpacked"
	assert_eq "$(g run --rm "$O/zstd/bb:1" sha256sum /z | cut -d' ' -f1)" "$sum" \
		"the image runs with the zstd layer's file"
	dk load -i "$(e2e_busybox_tar)" >/dev/null
	g rmi "$O/zstd/bb:1" >/dev/null
}

test_basic_tls() {
	local out
	out=$(rc_out g pull "$S/b/bb:1")
	assert_contains "$out" "rc=1" "no credentials: refused"
	assert_contains "$out" "unauthorized" "no credentials: unauthorized"
	out=$(rc_out g login -u alice -p wrong "$S")
	assert_contains "$out" "rc=1" "wrong password: exit 1"
	assert_contains "$out" "401" "wrong password: 401"
	out=$(echo s3cret | g login -u alice --password-stdin "$S")
	assert_contains "$out" "Login Succeeded" "login"
	assert_eq "$(jq -r --arg k "$S" '.auths[$k].auth' "$DOCKER_CONFIG/config.json" | base64 -d)" \
		"alice:s3cret" "credentials stored as docker stores them"
	g tag busybox "$S/b/bb:1"
	assert_contains "$(g push "$S/b/bb:1")" "1: digest: sha256:" "push over TLS with basic auth"
	forget_busybox
	assert_contains "$(g pull "$S/b/bb:1")" "Pull complete" "pull over TLS with basic auth"
	g tag "$S/b/bb:1" busybox
	# The docker CLI uses the same config: its X-Registry-Auth reaches gantryd.
	dk rmi "$S/b/bb:1" >/dev/null
	assert_contains "$(dk pull "$S/b/bb:1")" "Digest: sha256:" "docker pull with the stored login"
	# The server's name must match: localhost has no certs.d entry (no CA, no client cert).
	out=$(rc_out g pull "localhost:$P_TLS/b/bb:1")
	assert_contains "$out" "rc=1" "a registry whose CA is unknown is refused"
	assert_contains "$out" "certificate" "and the message names the certificate"
	assert_contains "$(g logout "$S")" "Removing login credentials for $S" "logout"
	assert_eq "$(jq -r --arg k "$S" '.auths[$k]' "$DOCKER_CONFIG/config.json")" "null" "logout removed them"
	dk login -u alice -p s3cret "$S" >/dev/null 2>&1
	assert_eq "$(jq -r --arg k "$S" '.auths[$k].auth' "$DOCKER_CONFIG/config.json" | base64 -d)" \
		"alice:s3cret" "docker login through gantryd's /auth"
	assert_contains "$(rc_out dk login -u alice -p nope "$S")" "rc=1" "docker login with a wrong password fails"
}

test_token() {
	local out
	out=$(rc_out g pull "$K/tk/bb:1")
	assert_contains "$out" "rc=1" "anonymous: refused"
	assert_contains "$out" "unauthorized" "anonymous: unauthorized"
	assert_contains "$(rc_out g login -u bob -p nope "$K")" "incorrect username or password" "bad token login"
	assert_contains "$(echo hunter2 | g login -u bob --password-stdin "$K")" "Login Succeeded" "token login"
	g tag busybox "$K/tk/bb:1"
	assert_contains "$(g push "$K/tk/bb:1")" "1: digest: sha256:" "push with a bearer token"
	forget_busybox
	assert_contains "$(g pull "$K/tk/bb:1")" "Pull complete" "pull with a bearer token"
	g tag "$K/tk/bb:1" busybox
	assert_eq "$(g run --rm "$K/tk/bb:1" echo token-ok)" "token-ok" "and it runs"
	g tag busybox "$K/tk/copy:1"
	assert_contains "$(g push "$K/tk/copy:1")" "Mounted from tk/bb" "mount with a two-scope token"
	grep -q 'scope=repository' "$RT/token.log" || { t__fail_msg "the token server saw no scoped request"; return 1; }
}

# ---- a hostile registry ----
"$PY" "$here/registry_hostile.py" "$RT/outside/escaped" "$RT/hostile.port" "$RT/hostile.log" \
	"$O" "$RT/stall" 2> "$RT/hostile.err" &
hostile_pid=$!
t_defer "t_kill_pid $hostile_pid 10"
mkdir -p "$RT/outside"
for ((i = 0; i < 100; i++)); do [[ -s $RT/hostile.port ]] && break; sleep 0.1; done
H=127.0.0.1:$(cat "$RT/hostile.port" 2>/dev/null)

# No temp blob or half-unpacked layer is left in the store, nothing appeared outside.
assert_store_clean() {
	local left
	left=$(find "$E2E_TMP/root/blobs" "$E2E_TMP/root/layers" -maxdepth 2 -name '.tmp-*' 2>/dev/null)
	assert_eq "$left" "" "no temp files in the store ($1)"
	assert_eq "$(ls -A "$RT/outside")" "" "nothing written outside the layer ($1)"
}

hostile_pull() { # REPO WANT...
	local repo=$1 out w
	shift
	out=$(rc_out g pull "$H/$repo")
	assert_contains "$out" "rc=1" "$repo: refused"
	for w in "$@"; do
		assert_contains "$out" "$w" "$repo: the message says what was wrong"
	done
	assert_store_clean "$repo"
}

blob_gets() { grep -c "^GET /v2/$1/blobs/" "$RT/hostile.log" || true; }
manifest_gets() { grep -c "^GET /v2/$1/manifests/" "$RT/hostile.log" || true; }

test_hostile_content() {
	local before
	before=$(dk images -a --no-trunc -q | sort)
	hostile_pull wrongdigest/img "filesystem layer verification failed for digest sha256:"
	assert_eq "$(dk images -a --format '{{.Repository}}' | grep -c wrongdigest || true)" 0 \
		"a refused pull leaves no tag"
	assert_eq "$(dk images -a --no-trunc -q | sort)" "$before" "a refused pull leaves no image"
	local bad
	bad=$(grep -o 'sha256:[0-9a-f]*' <<<"$(rc_out g pull "$H/wrongdigest/img")" | head -1)
	[[ ! -e $E2E_TMP/root/blobs/sha256/${bad#sha256:} ]] || { t__fail_msg "the bad blob is in the store"; return 1; }
	hostile_pull truncated/img "unexpected EOF"
	[[ $(blob_gets truncated/img) -ge 4 ]] || { t__fail_msg "a cut layer is retried ($(blob_gets truncated/img) GETs)"; return 1; }
	hostile_pull bigmanifest/img "too large"
	hostile_pull badtype/img "unsupported manifest media type application/x-strange"
	hostile_pull schema1/img "schema 1 support has been removed"
	local gd
	gd=sha256:$(curl -sf "http://$H/v2/good/img/manifests/latest" | sha256sum | cut -d' ' -f1)
	hostile_pull "baddigest/img@$gd" "manifest verification failed for digest $gd"
	hostile_pull badconfig/img "image config verification failed for digest sha256:"
}

test_hostile_status() {
	hostile_pull s401/img "unauthorized: authentication required"
	hostile_pull s403/img "denied: requested access to the resource is denied"
	hostile_pull s404/img "manifest for $H/s404/img:latest not found: manifest unknown"
	hostile_pull s503/img "service unavailable"
	[[ $(manifest_gets s503/img) -ge 4 ]] || { t__fail_msg "503 is retried ($(manifest_gets s503/img) GETs)"; return 1; }
	[[ $(manifest_gets s404/img) -eq 1 ]] || { t__fail_msg "404 is not retried"; return 1; }
	local out
	out=$(g pull "$H/s429/img")
	assert_contains "$out" "Pull complete" "429 twice, then served: the retries get it"
	[[ $(manifest_gets s429/img) -eq 3 ]] || { t__fail_msg "429: $(manifest_gets s429/img) GETs, want 3"; return 1; }
	assert_contains "$(g pull "$H/s500/img")" "Status: " "500 twice, then served"
}

test_hostile_tar() {
	hostile_pull dotdot/img "escapes the layer"
	hostile_pull abslink/img "refused"
	hostile_pull hardlink/img "escapes the layer"
	# The next pull works, and its file is what the registry served.
	g pull "$H/good/img" >/dev/null
	dk create --name hgood "$H/good/img" >/dev/null
	assert_eq "$(dk cp hgood:/hello - | tar -xO)" "hello from the good image" "a good pull after the bad ones"
	dk rm hgood >/dev/null
	assert_store_clean good
}

# An OCI layout with an index of two images (arm64 and amd64, the same layer), for skopeo --all.
make_multiarch() {
	skopeo copy -q "docker-archive:$(e2e_busybox_tar)" "oci:$RT/ml:base"
	"$PY" "$here/registry_multiarch.py" "$RT/ml" multi
}

test_multiarch() {
	make_multiarch
	skopeo copy -q --all --dest-tls-verify=false "oci:$RT/ml:multi" "docker://$O/ml/bb:1"
	assert_eq "$(skopeo inspect --raw --tls-verify=false "docker://$O/ml/bb:1" | jq -r '.manifests | length')" \
		"2" "the registry holds an index of two"
	local out
	out=$(g pull "$O/ml/bb:1")
	assert_contains "$out" "Digest: sha256:" "the index is pulled"
	assert_eq "$(dk inspect -f '{{.Architecture}}' "$O/ml/bb:1")" "amd64" "resolved to amd64"
	assert_eq "$(g run --rm "$O/ml/bb:1" echo multi-ok)" "multi-ok" "and it runs"
	g pull --platform linux/arm64 "$O/ml/bb:1" >/dev/null
	assert_eq "$(dk inspect -f '{{.Architecture}}/{{.Variant}}' "$O/ml/bb:1")" "arm64/v8" "--platform linux/arm64"
	assert_contains "$(rc_out g pull --platform linux/s390x "$O/ml/bb:1")" \
		"no matching manifest for linux/s390x in the manifest list entries" "no such platform"
	local plats
	plats=$(curl -sf --unix-socket "$E2E_SOCK" "http://d/distribution/$O/ml/bb:1/json" | jq -c '[.Platforms[].architecture]')
	assert_eq "$plats" '["arm64","amd64"]' "distribution inspect lists the index's platforms"
}

test_creds_store() {
	mkdir -p "$RT/bin" "$RT/helper"
	# A credential helper keeping one file per server (docker-credential-helpers' protocol).
	cat > "$RT/bin/docker-credential-gtest" <<-EOF
	#!/bin/sh
	store=$RT/helper
	case "\$1" in
	store) cat > "\$store/in.json"; key=\$(jq -r .ServerURL "\$store/in.json" | tr / _); mv "\$store/in.json" "\$store/\$key" ;;
	get) key=\$(tr / _); [ -f "\$store/\$key" ] || { echo "credentials not found in native keychain"; exit 1; }; cat "\$store/\$key" ;;
	erase) key=\$(tr / _); rm -f "\$store/\$key" ;;
	esac
	EOF
	chmod +x "$RT/bin/docker-credential-gtest"
	local cfg=$DOCKER_CONFIG/config.json
	jq '. + {"credsStore": "gtest"}' "$cfg" > "$cfg.new" 2>/dev/null || echo '{"credsStore": "gtest"}' > "$cfg.new"
	mv "$cfg.new" "$cfg"
	PATH=$RT/bin:$PATH
	assert_contains "$(echo s3cret | g login -u alice --password-stdin "$S")" "Login Succeeded" "login through the helper"
	assert_eq "$(jq -r .Secret "$RT/helper/$S")" "s3cret" "the helper got the secret"
	assert_eq "$(jq -r --arg k "$S" '.auths[$k].auth // "none"' "$cfg")" "none" "config.json keeps no secret"
	forget_busybox
	assert_contains "$(g pull "$S/b/bb:1")" "Digest: sha256:" "pull with the helper's credentials"
	g tag "$S/b/bb:1" busybox
	g logout "$S" >/dev/null
	[[ ! -e $RT/helper/$S ]] || { t__fail_msg "logout did not erase through the helper"; return 1; }
	jq 'del(.credsStore)' "$cfg" > "$cfg.new" && mv "$cfg.new" "$cfg"
}

test_mirror() {
	# busybox-mirrored is docker.io/library/busybox-mirrored: the mirror serves it.
	g tag busybox "$O/library/busybox-mirrored:1"
	g push "$O/library/busybox-mirrored:1" >/dev/null
	g rmi "$O/library/busybox-mirrored:1" >/dev/null
	forget_busybox
	local out
	out=$(g pull busybox-mirrored:1)
	assert_contains "$out" "Status: Downloaded newer image for busybox-mirrored:1" "pulled through the mirror"
	assert_contains "$out" "docker.io/library/busybox-mirrored:1" "under its docker.io name"
	g tag busybox-mirrored:1 busybox
	assert_eq "$(g run --rm busybox-mirrored:1 echo mirrored)" "mirrored" "and it runs"
}

t_run registry_push_pull_run test_push_pull_run
t_run registry_pull_by_digest test_pull_by_digest
t_run registry_mount_and_errors test_mount_and_errors
t_run registry_docker_cli test_docker_cli
t_run registry_skopeo_interop test_skopeo_interop
t_run registry_oci_archive_back test_oci_archive_back
t_run registry_zstd_pull test_zstd_pull
t_run registry_basic_auth_tls test_basic_tls
t_run registry_token_auth test_token
t_run registry_multiarch test_multiarch

# push --all-tags: every tag of the repository (not of a repository whose name starts the same).
test_push_all_tags() {
	g tag busybox "$O/at/bb:1"
	g tag busybox "$O/at/bb:2"
	g tag busybox "$O/at/bbx:9"
	local out
	out=$(rc_out g push --all-tags "$O/at/bb")
	assert_contains "$out" "rc=0" "push --all-tags succeeds"
	assert_contains "$out" "1: digest: sha256:" "tag 1 pushed"
	assert_contains "$out" "2: digest: sha256:" "tag 2 pushed"
	assert_eq "$(curl -sf "http://$O/v2/at/bb/tags/list" | jq -c '.tags | sort')" '["1","2"]' \
		"the registry lists both tags"
	assert_contains "$(curl -s "http://$O/v2/at/bbx/tags/list")" "NAME_UNKNOWN" "bbx was not pushed"
	assert_contains "$(rc_out g push --all-tags "$O/at/bb:1")" "tag can't be used with --all-tags/-a" \
		"--all-tags with a tag: docker's error"
	dk tag busybox "$O/at/dk:3"
	dk tag busybox "$O/at/dk:4"
	out=$(rc_out dk push --all-tags "$O/at/dk")
	assert_contains "$out" "4: digest: sha256:" "docker push --all-tags through gantryd"
	assert_eq "$(curl -sf "http://$O/v2/at/dk/tags/list" | jq -c '.tags | sort')" '["3","4"]' \
		"the registry lists docker's two tags"
	g rmi "$O/at/bb:1" "$O/at/bb:2" "$O/at/bbx:9" "$O/at/dk:3" "$O/at/dk:4" >/dev/null
}

# gantry login on a terminal without -u/-p asks for both; the password is not echoed.
test_login_prompt() {
	g logout "$S" >/dev/null
	assert_contains "$(rc_out g login "$S" </dev/null)" \
		"Cannot perform an interactive login from a non TTY device" "no terminal: refused"
	local out
	out=$("$PY" "$here/../pty_chat.py" 60 "Username: " alice "Password: " s3cret -- \
		"$GANTRY" login "$S")
	assert_eq "$?" 0 "login on a terminal exits 0"
	assert_contains "$out" "Username: alice" "asks for the username (echoed)"
	assert_contains "$out" "Password: " "asks for the password"
	assert_not_contains "$out" "s3cret" "the password is not echoed"
	assert_contains "$out" "Login Succeeded" "Login Succeeded"
	assert_eq "$(jq -r --arg k "$S" '.auths[$k].auth' "$DOCKER_CONFIG/config.json" | base64 -d)" \
		"alice:s3cret" "the typed credentials are stored"
}
t_run registry_push_all_tags test_push_all_tags
t_run registry_login_prompt test_login_prompt

# certs.d as docker reads it: every *.crt a CA, every NAME.cert + NAME.key a client pair. The TLS
# registry reached as localhost (its certificate names it too) with files named unlike ca.crt
# and client.cert; a lone key or certificate is refused with docker's words.
test_certs_d() {
	local d=$CERTS/localhost:$P_TLS L=localhost:$P_TLS out
	mkdir -p "$d"
	t_defer "rm -rf '$d'"
	cp "$RT/pki/token.crt" "$d/0-unrelated.crt"
	cp "$RT/pki/ca.crt" "$d/test-ca.crt"
	cp "$RT/pki/client.cert" "$d/me.cert"
	cp "$RT/pki/client.key" "$d/me.key"
	assert_contains "$(echo s3cret | g login -u alice --password-stdin "$L")" "Login Succeeded" \
		"login: the second *.crt is the CA, me.cert/me.key the client pair"
	out=$(rc_out g pull "$L/b/bb:1")
	assert_contains "$out" "rc=0" "pull through those certs.d files"
	cp "$RT/pki/client.key" "$d/lonely.key"
	assert_contains "$(rc_out g pull "$L/b/bb:1")" "missing client certificate $d/lonely.cert for key $d/lonely.key" \
		"a key without its certificate"
	rm "$d/lonely.key"
	cp "$RT/pki/ca.crt" "$d/ca.cert"
	assert_contains "$(rc_out g pull "$L/b/bb:1")" \
		"missing key $d/ca.key for client certificate $d/ca.cert. CA certificates must use the extension .crt" \
		"a certificate without its key"
	rm "$d/ca.cert" "$d/me.cert" "$d/me.key"
	assert_contains "$(rc_out g pull "$L/b/bb:1")" "rc=1" "without the client pair the registry refuses"
	g logout "$L" >/dev/null
	g rmi "$L/b/bb:1" >/dev/null
}
t_run registry_certs_d test_certs_d
t_run registry_creds_store test_creds_store
t_run registry_mirror test_mirror
t_run registry_hostile_content test_hostile_content
t_run registry_hostile_status test_hostile_status
t_run registry_hostile_tar test_hostile_tar

# ---- a pull killed in the middle of a layer, then pulled again ----
# busybox plus a small layer and an 8 MiB one, on the real registry; pulled through the hostile
# registry's proxy (proxy/...), which stops the big layer after 3 MiB while $RT/stall exists.
layer_digest() { skopeo inspect --raw --tls-verify=false "docker://$O/proxy/big:1" | jq -r ".layers[$1].digest"; }
make_big() {
	dk run --name mk1 busybox sh -c 'head -c 524288 /dev/urandom > /a' >/dev/null
	dk commit mk1 big:a >/dev/null
	dk run --name mk2 big:a sh -c 'head -c 8388608 /dev/urandom > /b' >/dev/null
	dk commit mk2 big:b >/dev/null
	dk run --rm big:b sha256sum /b | cut -d' ' -f1 > "$RT/big.sum"
	g tag big:b "$O/proxy/big:1"
	g push "$O/proxy/big:1" >/dev/null
	dk rm mk1 mk2 >/dev/null
	dk rmi big:a big:b "$O/proxy/big:1" >/dev/null
	[[ -s $RT/big.sum && $(layer_digest 2) == sha256:* ]]
}
BLOBS=$E2E_TMP/root/blobs/sha256
resume_ok=0
if t_run registry_resume_setup make_big; then
	small=$(layer_digest 1)
	big=$(layer_digest 2)
	big_size=$(skopeo inspect --raw --tls-verify=false "docker://$O/proxy/big:1" | jq -r '.layers[2].size')
	touch "$RT/stall"
	: > "$RT/hostile.log"
	g pull "$H/proxy/big:1" > "$RT/resume1.out" 2>&1 &
	pull_pid=$!
	# The small layer is complete (its blob is in the store) and the big one stands at 3 MiB.
	for ((i = 0; i < 300; i++)); do
		[[ -e $BLOBS/${small#sha256:} && $(stat -c %s "$BLOBS/.partial-${big#sha256:}" 2>/dev/null || echo 0) -ge 3145728 ]] && break
		sleep 0.1
	done
	sleep 0.5 # the small layer's unpack
	resume_ok=1
fi
# Killed in the middle of that pull; started again with small push chunks (test_chunked_push).
e2e_crash
wait "${pull_pid:-}" 2>/dev/null
rm -f "$RT/stall"
GANTRY_PUSH_CHUNK=262144 GANTRYD_ARGS="--certs-dir $CERTS --registry-mirror http://127.0.0.1:$P_OPEN" e2e_restart
gantryd_state=$(e2e_state)

test_resume() {
	[[ $resume_ok -eq 1 ]] || { t__fail_msg "setup failed"; return 1; }
	assert_eq "$(grep -c "^BLOB $big range=- sent=3145728" "$RT/hostile.log")" 1 \
		"the first pull was cut after 3 MiB of the big layer"
	assert_eq "$(stat -c %s "$BLOBS/.partial-${big#sha256:}")" 3145728 "its 3 MiB are kept"
	[[ ! -e $BLOBS/${big#sha256:} ]] || { t__fail_msg "the cut blob is visible"; return 1; }
	# A sweep of unused blobs and layers (rmi of another image) leaves the unfinished pull's.
	g pull "$H/good/img" >/dev/null
	assert_contains "$(g rmi -f "$(dk inspect -f '{{.Id}}' "$H/good/img")")" "Deleted: sha256:" \
		"an image removed: img_gc ran"
	[[ -e $BLOBS/${small#sha256:} && -e $BLOBS/.partial-${big#sha256:} ]] ||
		{ t__fail_msg "img_gc removed what the killed pull left"; return 1; }
	: > "$RT/hostile.log"
	local out
	out=$(g pull "$H/proxy/big:1")
	assert_contains "$out" "Status: Downloaded newer image" "the next pull completes"
	assert_eq "$(grep -c "^BLOB $small " "$RT/hostile.log" || true)" 0 "the complete layer is not fetched again"
	assert_eq "$(grep "^BLOB $big " "$RT/hostile.log")" \
		"BLOB $big range=bytes=3145728- sent=$((big_size - 3145728))" \
		"the big layer goes on from its 3 MiB (Range), only the rest is sent"
	assert_eq "$(g run --rm "$H/proxy/big:1" sha256sum /b | cut -d' ' -f1)" "$(cat "$RT/big.sum")" \
		"the image runs and its file is whole"
	assert_eq "$(find "$BLOBS" -name '.partial-*' | wc -l)" 0 "no partial blob left"
	g rmi "$H/proxy/big:1" >/dev/null
}
t_run registry_resume_after_kill test_resume

# GANTRY_PUSH_CHUNK=256 KiB (the restart above): a 1.5 MiB layer goes up in PATCH chunks; skopeo
# reads the image back (verifying every digest) and the archive it writes loads and runs.
test_chunked_push() {
	dk run --name mkc busybox sh -c 'head -c 1500000 /dev/urandom > /r' >/dev/null
	dk commit mkc chunk:1 >/dev/null
	dk rm mkc >/dev/null
	local sum
	sum=$(g run --rm chunk:1 sha256sum /r | cut -d' ' -f1)
	g tag chunk:1 "$O/chunk/bb:1"
	assert_contains "$(g push "$O/chunk/bb:1")" ": Pushed" "the new layer is uploaded"
	local patches
	patches=$(grep -c '"PATCH /v2/chunk/bb/blobs/uploads/' "$RT/open/log" || true)
	[[ $patches -ge 5 ]] || { t__fail_msg "the registry saw $patches PATCH requests, want 5 or more"; return 1; }
	skopeo copy -q --src-tls-verify=false "docker://$O/chunk/bb:1" "oci-archive:$RT/chunk.tar:chunked/bb:1"
	dk rmi chunk:1 "$O/chunk/bb:1" >/dev/null
	assert_contains "$(dk load -i "$RT/chunk.tar")" "Loaded image: chunked/bb:1" "skopeo's copy loads"
	assert_eq "$(g run --rm chunked/bb:1 sha256sum /r | cut -d' ' -f1)" "$sum" "and runs with the file whole"
	g rmi chunked/bb:1 >/dev/null
}
t_run registry_chunked_push test_chunked_push

# A random 600 KiB layer (3 PATCH chunks of 256 KiB, then the PUT); its file's sum in $RT/NAME.sum.
make_rand_image() { # NAME
	dk run --name "mk$1" busybox sh -c 'head -c 600000 /dev/urandom > /r' >/dev/null
	dk commit "mk$1" "$1:1" >/dev/null
	dk rm "mk$1" >/dev/null
	g run --rm "$1:1" sha256sum /r | cut -d' ' -f1 > "$RT/$1.sum"
}

# The hostile proxy answers 503 to the first PATCH and the first PUT of a blob upload: the push
# starts a new upload session after a backoff each time and succeeds.
test_push_retry() {
	make_rand_image flaky
	g tag flaky:1 "$H/proxy/flaky/bb:1"
	: > "$RT/hostile.log"
	local out
	out=$(rc_out g push "$H/proxy/flaky/bb:1")
	assert_contains "$out" "rc=0" "the push succeeds"
	assert_contains "$out" "1: digest: sha256:" "and prints its digest"
	assert_eq "$(grep -c '^FLAKY ' "$RT/hostile.log")" 2 "a PATCH and a PUT were answered 503"
	g rmi flaky:1 "$H/proxy/flaky/bb:1" >/dev/null
	g pull "$O/proxy/flaky/bb:1" >/dev/null
	assert_eq "$(g run --rm "$O/proxy/flaky/bb:1" sha256sum /r | cut -d' ' -f1)" "$(cat "$RT/flaky.sum")" \
		"the registry's copy runs with its file whole"
	g rmi "$O/proxy/flaky/bb:1" >/dev/null
}
t_run registry_push_retry test_push_retry

# A layer last pushed to another repository of the same registry, its compressed copy gone from
# the store: the push asks for a mount, the registry opens a plain upload session instead (the
# hostile proxy drops ?mount=), and the layer is compressed again from its unpacked directory.
test_push_mount_refused() {
	make_rand_image nomount
	g tag nomount:1 "$H/proxy/src/m:1"
	g push "$H/proxy/src/m:1" >/dev/null || { t__fail_msg "first push failed"; return 1; }
	local layer
	layer=$(skopeo inspect --raw --tls-verify=false "docker://$O/proxy/src/m:1" | jq -r '.layers[-1].digest')
	[[ -e $BLOBS/${layer#sha256:} ]] || { t__fail_msg "no local blob $layer after the push"; return 1; }
	rm -f "$BLOBS/${layer#sha256:}"
	g tag nomount:1 "$H/proxy/nomount/m:1"
	: > "$RT/hostile.log"
	local out
	out=$(rc_out g push "$H/proxy/nomount/m:1")
	assert_contains "$out" "rc=0" "the push succeeds"
	assert_contains "$(cat "$RT/hostile.log")" "NOMOUNT" "a mount was asked for and not done"
	g rmi nomount:1 "$H/proxy/src/m:1" "$H/proxy/nomount/m:1" >/dev/null
	g pull "$O/proxy/nomount/m:1" >/dev/null
	assert_eq "$(g run --rm "$O/proxy/nomount/m:1" sha256sum /r | cut -d' ' -f1)" "$(cat "$RT/nomount.sum")" \
		"the registry's copy runs with its file whole"
	g rmi "$O/proxy/nomount/m:1" >/dev/null
}
t_run registry_push_mount_refused test_push_mount_refused

# On a terminal (script(1) gives the pull a pty) each layer has a bar: its state, bytes done of
# its size, and while downloading its speed; the 8 MiB layer comes at about 2 MB/s (STALL.slow).
# docker pull through gantryd draws docker's own bars (shown from 110 columns). Without a
# terminal: plain lines only.
test_progress_tty() {
	local out
	touch "$RT/stall.slow"
	out=$(script -qfec "stty cols 200 rows 50; timeout -k 5 60 '$GANTRY' pull '$H/proxy/big:1'" /dev/null)
	rm -f "$RT/stall.slow"
	assert_contains "$out" $'\033[' "the bars are redrawn in place"
	grep -qE 'Downloading \[=+> *\] +[0-9.]+[kM]B/[0-9.]+MB  [0-9.]+[kM]B/s' <<<"$out" ||
		{ t__fail_msg "no 'Downloading [==>  ] x/yMB  zMB/s' bar in: $(tail -c 600 <<<"$out" | cat -v)"; return 1; }
	grep -qE 'Extracting \[=+>? *\] +[0-9.]+[kM]?B/[0-9.]+MB' <<<"$out" ||
		{ t__fail_msg "no Extracting bar in: $(tail -c 600 <<<"$out" | cat -v)"; return 1; }
	assert_contains "$out" "Pull complete" "Pull complete"
	g rmi "$H/proxy/big:1" >/dev/null
	touch "$RT/stall.slow"
	out=$(script -qfec "stty cols 200 rows 50; timeout -k 5 60 '$DOCKER' pull '$H/proxy/big:1'" /dev/null)
	rm -f "$RT/stall.slow"
	grep -qE 'Downloading +\[=+> *\] +[0-9.]+[kM]?B/[0-9.]+MB' <<<"$out" ||
		{ t__fail_msg "docker pull: no Downloading bar in: $(tail -c 600 <<<"$out" | cat -v)"; return 1; }
	grep -qE 'Extracting +\[=+>? *\] +[0-9.]+[kM]?B/[0-9.]+MB' <<<"$out" ||
		{ t__fail_msg "docker pull: no Extracting bar in: $(tail -c 600 <<<"$out" | cat -v)"; return 1; }
	assert_contains "$out" "Pull complete" "docker pull: Pull complete"
	g rmi "$H/proxy/big:1" >/dev/null
	out=$(g pull "$H/proxy/big:1")
	assert_contains "$out" ": Pull complete" "no terminal: plain lines"
	assert_not_contains "$out" "[=" "no terminal: no bars"
	assert_not_contains "$out" $'\033' "no terminal: no escapes"
	g rmi "$H/proxy/big:1" >/dev/null
}
t_run registry_progress_tty test_progress_tty

# The hostile registry as docker.io's mirror, the open one standing in for docker.io itself
# (GANTRY_DOCKER_IO_ENDPOINT): what the mirror lacks (404), fails to give (503) or gives bad
# (a layer not matching its digest) comes from the registry, as dockerd does.
g tag busybox "$O/s503/img:latest"
g tag busybox "$O/wrongdigest/img:latest"
g push "$O/s503/img:latest" >/dev/null
g push "$O/wrongdigest/img:latest" >/dev/null
g rmi "$O/s503/img:latest" "$O/wrongdigest/img:latest" >/dev/null
# A TLS registry (no client certificates, no auth) whose CA has no certs.d entry: refused until
# the daemon lists 127.0.0.0/8 with --insecure-registry (the CIDR form), which skips the check.
P_TLS2=$(free_port)
T2=127.0.0.1:$P_TLS2
reg_start tls2 "$P_TLS2" "http:
  addr: $T2
  tls:
    certificate: $RT/pki/server.crt
    key: $RT/pki/server.key" || t_fail registry_tls2_start "the registry did not start"
test_unknown_ca() {
	g tag busybox "$T2/ins/bb:1"
	local out
	out=$(rc_out g push "$T2/ins/bb:1")
	assert_contains "$out" "rc=1" "a TLS registry of an unknown CA: refused"
	assert_contains "$out" "certificate" "the message names the certificate"
}
t_run registry_tls_unknown_ca test_unknown_ca
kill -TERM "$E2E_PID" 2>/dev/null
wait "$E2E_PID" 2>/dev/null
GANTRY_DOCKER_IO_ENDPOINT=$O GANTRY_PUSH_CHUNK=262144 GANTRYD_ARGS="--certs-dir $CERTS \
	--registry-mirror http://$H --insecure-registry 127.0.0.0/8" e2e_restart
gantryd_state=$(e2e_state)
test_insecure_cidr() {
	local out
	out=$(rc_out g push "$T2/ins/bb:1")
	assert_contains "$out" "rc=0" "listed by --insecure-registry 127.0.0.0/8: the push goes"
	assert_contains "$out" "1: digest: sha256:" "and prints its digest"
	g rmi "$T2/ins/bb:1" >/dev/null
	assert_contains "$(g pull "$T2/ins/bb:1")" "Downloaded newer image for $T2/ins/bb:1" "and the pull"
	g rmi "$T2/ins/bb:1" >/dev/null
}
t_run registry_insecure_cidr test_insecure_cidr
test_mirror_fallback() {
	g rmi busybox-mirrored:1 >/dev/null 2>&1
	: > "$RT/hostile.log"
	local out
	out=$(rc_out g pull busybox-mirrored:1)
	assert_contains "$out" "rc=0" "a 404 from the mirror: pulled from the registry"
	assert_contains "$(cat "$RT/hostile.log")" "GET /v2/library/busybox-mirrored/manifests/1" \
		"the mirror was asked first"
	out=$(rc_out g pull s503/img)
	assert_contains "$out" "rc=0" "a 503 from the mirror: pulled from the registry"
	assert_contains "$(cat "$RT/hostile.log")" "GET /v2/s503/img/manifests/latest" "the mirror was asked"
	out=$(rc_out g pull wrongdigest/img)
	assert_contains "$out" "rc=0" "a bad layer from the mirror: pulled from the registry"
	assert_contains "$(cat "$RT/hostile.log")" "GET /v2/wrongdigest/img/blobs/" "the mirror's layer was fetched"
	assert_eq "$(g run --rm wrongdigest/img echo from-upstream)" "from-upstream" "the registry's image runs"
	g rmi s503/img wrongdigest/img busybox-mirrored:1 >/dev/null
}
t_run registry_mirror_fallback test_mirror_fallback

# dockerd (a private one) pulls what gantry pushed and pushes what gantry then pulls.
test_dockerd_side() {
	dk pull -q "$O/t/bb:1" >/dev/null
	assert_eq "$(dk run --rm "$O/t/bb:1" echo dockerd-runs-gantrys)" "dockerd-runs-gantrys" \
		"an image pushed by gantry runs on dockerd"
	dk tag "$O/t/bb:1" "$O/fromdockerd/bb:1"
	assert_contains "$(dk push "$O/fromdockerd/bb:1")" "1: digest: sha256:" "dockerd pushes"
}

test_gantry_side() {
	forget_busybox
	assert_contains "$(g pull "$O/fromdockerd/bb:1")" "Digest: sha256:" "gantry pulls dockerd's push"
	g tag "$O/fromdockerd/bb:1" busybox
	assert_eq "$(g run --rm "$O/fromdockerd/bb:1" echo gantry-runs-dockerds)" "gantry-runs-dockerds" \
		"and runs it"
}

if why=$(TARGET=dockerd e2e_missing); then
	TARGET=dockerd
	DOCKERD_ARGS="--insecure-registry $O" start_daemon
	t_run registry_dockerd_pulls_gantrys test_dockerd_side
	stop_daemon
	eval "$gantryd_state"
	TARGET=gantryd
	t_run registry_gantry_pulls_dockerds test_gantry_side
else
	t_skip registry_dockerd_interop "$why"
fi

stop_daemon
t_summary
