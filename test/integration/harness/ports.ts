export { freePort } from '@pcapmesh/shared/util/testing';
