// Signs an expert's opinion in the browser with the expert's own Ed25519 key (WebCrypto),
// so no one types a base64 signature. The key is either a PKCS#8 file the expert picks
// (read here, never uploaded: its input has no name) or a non-extractable key this browser
// generated and keeps in IndexedDB, whose public key an administrator registers once
// (`dueprocess credentials add-key HANDLE key.pub`). On submit the page asks the server for
// the exact bytes it will verify (signing-payload), signs them, fills in the signature and
// submits the form; the server verifies against the registered keys as from any channel.
"use strict";

(() => {
  const box = document.getElementById("signing");
  if (!box) return;
  const form = box.closest("form");
  const handle = box.dataset.handle;
  const status = document.getElementById("sign-status");
  const signature = document.getElementById("f-signature_ed25519");
  const keyFile = document.getElementById("sign-keyfile");
  const useBrowserKey = document.getElementById("sign-with-browser-key");
  const ALGORITHM = { name: "Ed25519" };

  const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
  const unb64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  const say = (text) => { status.textContent = text; };

  function keyStore(mode, act) {
    return new Promise((resolve, reject) => {
      const opened = indexedDB.open("dueprocess-signing-keys", 1);
      opened.onupgradeneeded = () => opened.result.createObjectStore("keys");
      opened.onerror = () => reject(opened.error);
      opened.onsuccess = () => {
        const request = act(opened.result.transaction("keys", mode).objectStore("keys"));
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      };
    });
  }

  async function showPublicKey(pair) {
    const raw = await crypto.subtle.exportKey("raw", pair.publicKey); // public: exportable
    document.getElementById("browser-public-key").textContent = b64(raw);
    document.getElementById("browser-key").hidden = false;
  }

  async function storedPair() {
    return keyStore("readonly", (store) => store.get(handle));
  }

  document.getElementById("make-browser-key").addEventListener("click", async () => {
    if (await storedPair() && !confirm(box.dataset.replace)) {
      return;
    }
    // extractable=false: the private key can sign here but can never be read out.
    const pair = await crypto.subtle.generateKey(ALGORITHM, false, ["sign", "verify"]);
    await keyStore("readwrite", (store) => store.put(pair, handle));
    useBrowserKey.checked = true;
    await showPublicKey(pair);
  });

  storedPair().then(async (pair) => {
    if (pair) {
      useBrowserKey.checked = true;
      await showPublicKey(pair);
    }
  });

  async function fileKey(file) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const text = new TextDecoder().decode(bytes);
    const pem = text.match(/-----BEGIN PRIVATE KEY-----([\s\S]+?)-----END PRIVATE KEY-----/);
    const der = pem ? unb64(pem[1].replace(/\s+/g, "")) : bytes;
    return crypto.subtle.importKey("pkcs8", der, ALGORITHM, false, ["sign"]);
  }

  async function signingKey() {
    if (keyFile.files.length) return fileKey(keyFile.files[0]);
    if (useBrowserKey.checked) {
      const pair = await storedPair();
      if (pair) return pair.privateKey;
    }
    return null; // not signed here: a sealed scan, or the rules name what is missing
  }

  form.addEventListener("submit", async (event) => {
    if (form.dataset.signed === "1") return;
    event.preventDefault();
    try {
      const key = await signingKey();
      if (key) {
        const data = new FormData(form);
        data.delete("documents");
        data.delete("sealed_scan");
        data.delete("signature_ed25519");
        const answer = await fetch(box.dataset.payload, { method: "POST", body: data,
                                                          credentials: "same-origin" });
        const body = await answer.json();
        if (!answer.ok) {
          say(body.problems.join("; "));
          return;
        }
        signature.value = b64(await crypto.subtle.sign(ALGORITHM, key, unb64(body.payload)));
      }
    } catch (error) {
      say(String(error));
      return;
    }
    form.dataset.signed = "1";
    form.submit();
  });
})();
