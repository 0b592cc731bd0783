// The Mini App. Inside Telegram it authenticates every call with Telegram.WebApp.initData
// ("Authorization: tma <initData>"). In an ordinary browser it can sign in only on a server
// in development mode, which hands out initData for a made-up user.
(function () {
	'use strict';
	var tg = window.Telegram && window.Telegram.WebApp;
	var $ = function (id) { return document.getElementById(id); };
	var initData = (tg && tg.initData) || sessionStorage.getItem('quantor.initData') || '';

	function api(method, path, body) {
		var headers = { 'Accept': 'application/json' };
		if (initData) headers.Authorization = 'tma ' + initData;
		if (body) headers['Content-Type'] = 'application/json';
		return fetch(path, { method: method, headers: headers, cache: 'no-store', body: body ? JSON.stringify(body) : undefined })
			.then(function (r) {
				return r.json().catch(function () { return {}; }).then(function (j) { return { status: r.status, body: j }; });
			});
	}

	function show(id) {
		['signin', 'home'].forEach(function (s) { $(s).hidden = s !== id; });
	}

	function money(s) { return s === null || s === undefined ? '–' : '$' + s; }

	function render(me) {
		var u = me.user, p = me.plan;
		$('hello').textContent = 'Hello, ' + u.first_name;
		$('plan').textContent = p.name + (p.live ? '' : ' (paper only)');
		$('bots').textContent = me.limits.running_bots + ' of ' + me.limits.max_bots;
		$('notional').textContent = money(me.limits.max_notional_usd);
		$('pnl').textContent = me.today.pnl + ' USDT';
		$('loss').textContent = me.today.daily_loss_limit_pct + ' % of the day\'s starting equity';
		$('linked').textContent = me.telegram_linked ? 'linked' : 'not started yet';
		$('link-hint').hidden = me.telegram_linked;
		$('signout').hidden = !!(tg && tg.initData);
		show('home');
	}

	function load() {
		api('GET', '/api/v1/me').then(function (r) {
			if (r.status === 200) return render(r.body);
			sessionStorage.removeItem('quantor.initData');
			initData = (tg && tg.initData) || '';
			signin(r.body && r.body.error ? r.body.error.message : '');
		}).catch(function () { signin('The service cannot be reached.'); });
	}

	function signin(why) {
		show('signin');
		$('signin-error').textContent = initData ? why : '';
		// The dev endpoint exists only in development mode; a 404 means this is a real server.
		api('POST', '/api/v1/dev/init-data', {}).then(function (r) {
			$('dev-form').hidden = r.status === 404;
		});
	}

	$('dev-form').addEventListener('submit', function (e) {
		e.preventDefault();
		api('POST', '/api/v1/dev/init-data', { id: Number($('dev-id').value), first_name: $('dev-name').value })
			.then(function (r) {
				if (r.status !== 200) {
					$('signin-error').textContent = r.body.error ? r.body.error.message : 'sign-in failed';
					return;
				}
				initData = r.body.init_data;
				sessionStorage.setItem('quantor.initData', initData);
				load();
			});
	});
	$('signout').addEventListener('click', function () {
		sessionStorage.removeItem('quantor.initData');
		initData = '';
		signin('');
	});

	fetch('/api/v1/health', { cache: 'no-store' }).then(function (r) { return r.json(); }).then(function (j) {
		$('status').textContent = j.status === 'ok' ? 'online' : 'degraded';
		$('status').className = 'status ' + (j.status === 'ok' ? 'ok' : 'down');
	}).catch(function () { $('status').textContent = 'offline'; $('status').className = 'status down'; });

	if (tg) { tg.ready(); tg.expand(); }
	if (initData) load(); else signin('');
})();
