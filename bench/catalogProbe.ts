/**
 * A load generator in its own process (so the backend's stalls do not also stall it): GETs one
 * catalog entity at a fixed rate, open loop (each request is sent on schedule, not after the last
 * answer), until told to stop; reports every latency in ms.
 */
interface ProbeStart {
  url: string;
  intervalMs: number;
}

process.once('message', (start: ProbeStart) => {
  const latencies: number[] = [];
  let failures = 0;
  let inFlight = 0;
  const timer = setInterval(() => {
    const t0 = performance.now();
    inFlight++;
    fetch(start.url)
      .then(async r => {
        await r.arrayBuffer();
        if (!r.ok) failures++;
        latencies.push(performance.now() - t0);
      })
      .catch(() => failures++)
      .finally(() => inFlight--);
  }, start.intervalMs);
  process.once('message', async () => {
    clearInterval(timer);
    while (inFlight > 0) await new Promise(r => setTimeout(r, 10));
    process.send!({ latencies, failures }, () => process.exit(0));
  });
  process.send!({ started: true });
});
