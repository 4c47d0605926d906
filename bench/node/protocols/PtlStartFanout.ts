import { uint } from 'tsrpc-proto';

export interface ReqStartFanout {
    m: uint;
}

export interface ResStartFanout {
}
