import { uint } from 'tsrpc-proto';

export interface ReqStartPush {
    n: uint;
}

export interface ResStartPush {
}
