/* Direct browser uploads for django-minio-backend's DirectUploadWidget. No dependencies, no build.
 *
 * A file below data-single-below bytes goes in one presigned PUT; a larger one is sent in parts,
 * data-parallel at once, each part retried (RETRIES times, then the Retry button resumes the parts
 * still missing). The server chooses the name, signs the part URLs and completes the upload; the
 * signed value it returns goes into the hidden input. Cancel (or leaving the page) aborts the upload.
 */
(function () {
  "use strict";
  var RETRIES = 3;
  var URL_BATCH = 50;

  function csrfToken(root) {
    var form = root.closest("form");
    var input = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function sleep(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  function DirectUpload(root) {
    this.root = root;
    this.data = root.dataset;
    this.input = root.querySelector(".dmb-file");
    this.value = root.querySelector(".dmb-value");
    this.progress = root.querySelector(".dmb-progress");
    this.status = root.querySelector(".dmb-status");
    this.cancelButton = root.querySelector(".dmb-cancel");
    this.retryButton = root.querySelector(".dmb-retry");
    this.requests = new Set();
    this.state = "idle";
    var self = this;
    this.input.addEventListener("change", function () { if (self.input.files.length) self.begin(self.input.files[0]); });
    this.cancelButton.addEventListener("click", function () { self.cancel(); });
    this.retryButton.addEventListener("click", function () { self.resume(); });
    var form = root.closest("form");
    if (form) form.addEventListener("submit", function (event) { self.onSubmit(event, form); });
    window.addEventListener("pagehide", function () { self.abandon(); });
    root.directUpload = this;
  }

  DirectUpload.prototype.show = function (text, state) {
    this.status.textContent = text;
    this.root.dataset.state = state;
    this.state = state;
    var busy = state === "uploading";
    this.cancelButton.hidden = !(busy || state === "failed");
    this.retryButton.hidden = state !== "failed";
    this.progress.hidden = !(busy || state === "failed");
  };

  DirectUpload.prototype.call = function (url, body) {
    body.grant = this.data.grant;
    if (this.ticket) body.ticket = this.ticket;
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken(this.root)},
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) throw new Error(data.error || "HTTP " + response.status);
        return data;
      });
    });
  };

  DirectUpload.prototype.put = function (url, blob, headers, onProgress) {
    var requests = this.requests;
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      requests.add(xhr);
      xhr.open("PUT", url);
      Object.keys(headers || {}).forEach(function (name) { xhr.setRequestHeader(name, headers[name]); });
      xhr.upload.onprogress = function (event) { onProgress(event.loaded); };
      xhr.onload = function () {
        requests.delete(xhr);
        if (xhr.status >= 200 && xhr.status < 300) resolve();
        else reject(new Error("the storage answered " + xhr.status));
      };
      xhr.onerror = function () { requests.delete(xhr); reject(new Error("network error")); };
      xhr.onabort = function () { requests.delete(xhr); reject(new Error("cancelled")); };
      xhr.send(blob);
    });
  };

  DirectUpload.prototype.updateProgress = function () {
    var sent = 0;
    this.loaded.forEach(function (bytes) { sent += bytes; });
    var percent = this.file.size ? Math.floor((100 * sent) / this.file.size) : 100;
    this.progress.value = percent;
    this.status.textContent = "Uploading… " + percent + "%";
  };

  DirectUpload.prototype.begin = function (file) {
    var self = this;
    if (this.state === "uploading") this.cancel();
    if (file.size > Number(this.data.maxSize)) {
      this.show("The file is larger than " + this.data.maxSize + " bytes.", "failed");
      this.retryButton.hidden = true;
      return;
    }
    this.file = file;
    this.value.value = "";
    this.ticket = null;
    this.loaded = new Map();
    this.done = new Set();
    this.urls = {};
    this.cancelled = false;
    this.show("Starting…", "uploading");
    var mode = file.size < Number(this.data.singleBelow) ? "single" : "multipart";
    this.running = this.call(this.data.start, {
      filename: file.name, size: file.size, content_type: file.type || "application/octet-stream", mode: mode,
    }).then(function (started) {
      self.ticket = started.ticket;
      self.plan = started;
      Object.assign(self.urls, started.urls || {});
      return self.send();
    }).catch(function (error) { self.failed(error); });
  };

  DirectUpload.prototype.send = function () {
    var self = this;
    var sending = this.plan.mode === "single" ? this.sendSingle() : this.sendParts();
    return sending.then(function () {
      if (self.cancelled) return;
      self.status.textContent = "Finishing…";
      return self.call(self.data.complete, {}).then(function (finished) {
        self.value.value = finished.value;
        self.progress.value = 100;
        self.show("Uploaded " + self.file.name + ".", "done");
        self.root.dispatchEvent(new CustomEvent("dmb:uploaded", {bubbles: true, detail: finished}));
        if (self.pendingSubmit) { var form = self.pendingSubmit; self.pendingSubmit = null; form.requestSubmit(); }
      });
    });
  };

  DirectUpload.prototype.sendSingle = function () {
    var self = this;
    var attempt = function (tries) {
      return self.put(self.plan.url, self.file, self.plan.headers, function (bytes) {
        self.loaded.set(1, bytes); self.updateProgress();
      }).catch(function (error) {
        if (self.cancelled || tries >= RETRIES) throw error;
        return sleep(500 * Math.pow(2, tries)).then(function () { return attempt(tries + 1); });
      });
    };
    return attempt(0);
  };

  DirectUpload.prototype.partUrl = function (number) {
    var self = this;
    if (this.urls[number]) return Promise.resolve(this.urls[number]);
    var wanted = [];
    for (var n = number; n <= this.plan.parts && wanted.length < URL_BATCH; n++) {
      if (!this.urls[n] && !this.done.has(n)) wanted.push(n);
    }
    return this.call(this.data.sign, {parts: wanted}).then(function (signed) {
      Object.assign(self.urls, signed.urls);
      return self.urls[number];
    });
  };

  DirectUpload.prototype.sendPart = function (number, tries) {
    var self = this;
    var start = (number - 1) * this.plan.part_size;
    var blob = this.file.slice(start, Math.min(start + this.plan.part_size, this.file.size));
    return this.partUrl(number).then(function (url) {
      return self.put(url, blob, {}, function (bytes) { self.loaded.set(number, bytes); self.updateProgress(); });
    }).then(function () {
      self.done.add(number);
      self.loaded.set(number, blob.size);
    }).catch(function (error) {
      self.loaded.set(number, 0);
      delete self.urls[number]; // it may have expired
      if (self.cancelled || tries >= RETRIES) throw error;
      self.root.dataset.retries = String(Number(self.root.dataset.retries || 0) + 1);
      return sleep(500 * Math.pow(2, tries)).then(function () { return self.sendPart(number, tries + 1); });
    });
  };

  DirectUpload.prototype.sendParts = function () {
    var self = this;
    var next = 1;
    var failure = null;
    var worker = function () {
      while (next <= self.plan.parts && self.done.has(next)) next++;
      if (next > self.plan.parts || failure || self.cancelled) return Promise.resolve();
      var number = next++;
      return self.sendPart(number, 0).then(worker, function (error) { failure = failure || error; });
    };
    var workers = [];
    for (var i = 0; i < Number(this.data.parallel); i++) workers.push(worker());
    return Promise.all(workers).then(function () { if (failure) throw failure; });
  };

  DirectUpload.prototype.failed = function (error) {
    if (this.cancelled) return;
    this.show("Upload failed: " + error.message, "failed");
    if (!this.ticket) this.retryButton.hidden = true;
  };

  DirectUpload.prototype.resume = function () {
    var self = this;
    if (!this.ticket) { this.begin(this.file); return; }
    this.show("Retrying…", "uploading");
    this.running = this.send().catch(function (error) { self.failed(error); });
  };

  DirectUpload.prototype.stopRequests = function () {
    this.cancelled = true;
    this.requests.forEach(function (xhr) { xhr.abort(); });
  };

  DirectUpload.prototype.cancel = function () {
    var self = this;
    this.stopRequests();
    this.value.value = "";
    this.input.value = "";
    this.pendingSubmit = null;
    var ticket = this.ticket;
    if (!ticket) { this.show("Cancelled.", "cancelled"); return Promise.resolve(); }
    this.show("Cancelling…", "cancelling");
    return this.call(this.data.abort, {}).then(function () {
      self.ticket = null;
      self.show("Cancelled.", "cancelled");
    }).catch(function (error) { self.show("Cancel failed: " + error.message, "failed"); });
  };

  DirectUpload.prototype.abandon = function () {
    if (!this.ticket || this.state === "done" || this.state === "cancelled") return;
    this.stopRequests();
    var form = new FormData();
    form.append("grant", this.data.grant);
    form.append("ticket", this.ticket);
    form.append("csrfmiddlewaretoken", csrfToken(this.root));
    navigator.sendBeacon(this.data.abort, form);
  };

  DirectUpload.prototype.onSubmit = function (event, form) {
    if (this.state === "uploading") {
      event.preventDefault();
      this.pendingSubmit = form;
      this.status.textContent += " The form is sent when the upload is done.";
    } else if (this.state === "failed") {
      event.preventDefault();
    }
  };

  function init(scope) {
    (scope || document).querySelectorAll(".dmb-direct-upload").forEach(function (root) {
      if (!root.directUpload) new DirectUpload(root);
    });
  }

  window.DjangoMinioDirectUpload = {init: init};
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { init(); });
  else init();
  document.addEventListener("formset:added", function (event) { init(event.target); });
})();
