// The footprint reference: a Node process that loads one small module and
// stays alive doing nothing. The timer fires every 24.8 days, so it never
// wakes the process during a measurement.
setInterval(() => undefined, 2 ** 31 - 1);
console.log('ready');
