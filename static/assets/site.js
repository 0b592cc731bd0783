// Shows the live service status from /api/v1/health on the landing page.
(function () {
	var el = document.getElementById('status');
	if (!el) return;
	fetch('/api/v1/health', { cache: 'no-store' })
		.then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
		.then(function (x) {
			var ok = x.ok && x.j.status === 'ok';
			el.textContent = ok ? 'All systems operational' : 'Service degraded: database ' + (x.j.db || 'unknown');
			el.className = 'status ' + (ok ? 'ok' : 'down');
		})
		.catch(function () {
			el.textContent = 'Status unavailable';
			el.className = 'status down';
		});
})();
