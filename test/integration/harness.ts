/**
 * Integration test harness: real collector and agent processes over real sockets.
 *
 *   integrationTest(name, async (scope) => { ... })   a test with its own scratch dir, logs and cleanup
 *   prepareBackend(scope, 'pglite' | 'postgres')      storage (+ Redis) for one collector
 *   Collector.create(scope, { backend })               a collector process: addSensor, start, stop, api
 *   new Agent(scope, { name, secret, mqttUrl })        an agent process: start, kill9, stop
 *   connectClient / MessageFactory                     hand-driven MQTT clients speaking the wire protocol
 *   externalMosquitto(scope)                           the Mosquitto of scripts/services.sh
 *   eventually(probe, { what, timeoutMs })             poll until a condition holds
 */
export * from './harness/env.js';
export * from './harness/wait.js';
export * from './harness/ports.js';
export * from './harness/process.js';
export * from './harness/scope.js';
export * from './harness/backends.js';
export * from './harness/api.js';
export * from './harness/collector.js';
export * from './harness/agent.js';
export * from './harness/mqtt-client.js';
export * from './harness/mosquitto.js';
export * from './harness/proc-tree.js';
